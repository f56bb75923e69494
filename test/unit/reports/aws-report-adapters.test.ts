import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleGroupCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { SchedulerReportTimers, ensureScheduleGroup } from '../../../functions/adapters/aws/scheduler-report-timers';
import { reportFailedAlert } from '../../../functions/domain/reports/owner-alert';
import type { ReportSchedule } from '../../../functions/domain/reports/schedule';

// What moto cannot be made to do on cue: another writer winning a race, a list in pages.
const scheduler = mockClient(SchedulerClient);
const options = { groupName: 'reports', queueArn: 'arn:aws:sqs:us-east-1:123456789012:jobs', roleArn: 'arn:aws:iam::123456789012:role/scheduler' };
const schedule = (id: string): ReportSchedule => ({ id, kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', formats: ['pdf'], recipients: [], enabled: true });
const notFound = () => new ResourceNotFoundException({ message: 'not found', Message: 'not found', $metadata: {} });
const conflict = () => new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });

beforeEach(() => scheduler.reset());

describe('SchedulerReportTimers', () => {
  it('updates a schedule another sync created after the list, instead of failing', async () => {
    scheduler.on(ListSchedulesCommand).resolves({ Schedules: [] });
    scheduler.on(CreateScheduleCommand).rejects(conflict());
    scheduler.on(UpdateScheduleCommand).resolves({});

    await new SchedulerReportTimers(new SchedulerClient({}), options).sync([schedule('weekly')]);

    expect(scheduler.commandCalls(UpdateScheduleCommand).map((call) => call.args[0].input.Name)).toEqual(['weekly']);
  });

  it('reads every page of the group, so a schedule on a later page is updated, not created, and one no longer wanted is deleted', async () => {
    scheduler.on(ListSchedulesCommand, { GroupName: 'reports', NextToken: undefined }).resolves({ Schedules: [{ Name: 'old' }], NextToken: 'page-2' });
    scheduler.on(ListSchedulesCommand, { GroupName: 'reports', NextToken: 'page-2' }).resolves({ Schedules: [{ Name: 'weekly' }] });
    scheduler.on(UpdateScheduleCommand).resolves({});
    scheduler.on(DeleteScheduleCommand).rejects(notFound());

    await new SchedulerReportTimers(new SchedulerClient({}), options).sync([schedule('weekly')]);

    expect(scheduler.commandCalls(CreateScheduleCommand)).toEqual([]);
    expect(scheduler.commandCalls(UpdateScheduleCommand).map((call) => call.args[0].input.Name)).toEqual(['weekly']);
    // Deleted by another sync already: no error.
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([{ Name: 'old', GroupName: 'reports' }]);
  });

  it('creates the group only when it is missing, and takes a group created meanwhile', async () => {
    scheduler.on(GetScheduleGroupCommand).rejects(notFound());
    scheduler.on(CreateScheduleGroupCommand).rejects(conflict());

    await ensureScheduleGroup(new SchedulerClient({}), 'reports');

    expect(scheduler.commandCalls(CreateScheduleGroupCommand).map((call) => call.args[0].input)).toEqual([{ Name: 'reports' }]);
  });
});

describe('the owners’ alert of a failed report', () => {
  const run = { id: 'r-1', kind: 'operations' as const, period: { from: '2027-03-28T00:00:00+01:00', to: '2027-03-29T00:00:00+01:00', timeZone: 'Europe/London', label: '2027-03-28' }, scheduleId: null };

  it('names the run, its period and why, and who asked for it', () => {
    const { subject, text } = reportFailedAlert(run, 'database unreachable');
    expect(subject).toBe('Report failed: operations 2027-03-28');
    expect(text).toContain('Report: r-1');
    expect(text).toContain('Period: 2027-03-28T00:00:00+01:00 to 2027-03-29T00:00:00+01:00 (Europe/London)');
    expect(text).toContain('Asked for by: the API');
    expect(text).toContain('Why: database unreachable');
  });

  it('keeps the subject under the 100 characters SNS takes', () => {
    const { subject } = reportFailedAlert({ ...run, scheduleId: 'a'.repeat(64) }, 'x');
    expect(subject).toHaveLength(99);
    expect(subject.endsWith('…')).toBe(true);
  });
});
