import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleGroupCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  paginateListSchedules,
  type CreateScheduleCommandInput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { awsScheduleExpression } from '../../domain/reports/aws-cron';
import type { ReportSchedule } from '../../domain/reports/schedule';
import type { ReportJob, ReportTimers } from '../../ports/reports';

export interface SchedulerTimersOptions {
  /** The stack's schedule group: it holds only report schedules, so what else is there was removed. */
  readonly groupName: string;
  /** The report job queue, the schedules' target. */
  readonly queueArn: string;
  /** The role EventBridge Scheduler assumes to send to the queue (sqs:SendMessage on it alone). */
  readonly roleArn: string;
}

// Scheduler writes the time the run was due into the message, whenever it is delivered: a run
// retried or delivered late still covers the period it was due for (periodOf).
const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/**
 * Report schedules as EventBridge Scheduler schedules, one per enabled schedule, named by its id,
 * in the cron and IANA zone of the schedule (Scheduler keeps the wall-clock time across daylight
 * saving). Its message is the `schedule` job. Idempotent: a sync of the same set changes nothing,
 * and a sync that failed half-way is finished by the next one.
 */
export class SchedulerReportTimers implements ReportTimers {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: SchedulerTimersOptions,
  ) {}

  async sync(schedules: readonly ReportSchedule[]): Promise<void> {
    const wanted = schedules.filter((schedule) => schedule.enabled);
    const existing = await this.existingNames();
    for (const schedule of wanted) {
      const input = this.scheduleInput(schedule);
      if (existing.has(schedule.id)) await this.update(input);
      else await this.create(input);
    }
    const keep = new Set(wanted.map((schedule) => schedule.id));
    for (const name of existing) if (!keep.has(name)) await this.delete(name);
  }

  private scheduleInput(schedule: ReportSchedule): CreateScheduleCommandInput {
    const job: ReportJob = { type: 'schedule', scheduleId: schedule.id, firedAt: SCHEDULED_TIME };
    return {
      Name: schedule.id,
      GroupName: this.options.groupName,
      ScheduleExpression: awsScheduleExpression(schedule.cron),
      ScheduleExpressionTimezone: schedule.timeZone,
      // Reports run at the time asked for, not somewhere in a window after it.
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: { Arn: this.options.queueArn, RoleArn: this.options.roleArn, Input: JSON.stringify(job) },
    };
  }

  private async existingNames(): Promise<Set<string>> {
    const names = new Set<string>();
    for await (const page of paginateListSchedules({ client: this.client }, { GroupName: this.options.groupName })) {
      for (const schedule of page.Schedules ?? []) if (schedule.Name !== undefined) names.add(schedule.Name);
    }
    return names;
  }

  // Another sync (a second query function) may have made it since the list: then it is updated.
  private async create(input: CreateScheduleCommandInput): Promise<void> {
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      await this.update(input);
    }
  }

  private async update(input: CreateScheduleCommandInput): Promise<void> {
    await this.client.send(new UpdateScheduleCommand(input));
  }

  private async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}

/**
 * The emulated mode's stand-in for the stack's schedule group. Asked for first: creating a group
 * that exists is a conflict in AWS, and on moto it replaces the group with an empty one.
 */
export async function ensureScheduleGroup(client: SchedulerClient, name: string): Promise<void> {
  try {
    await client.send(new GetScheduleGroupCommand({ Name: name }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateScheduleGroupCommand({ Name: name }));
    } catch (raced) {
      if (!(raced instanceof ConflictException)) throw raced;
    }
  }
}
