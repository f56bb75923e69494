import { Cron } from 'croner';
import type { Logger } from '../adapters/log';
import { CRON_OPTIONS, type ReportSchedule } from '../domain/reports/schedule';
import type { ReportJob, ReportJobQueue, ReportTimers } from '../ports/reports';
import type { ReportWorker } from '../use-cases/report-worker';

/** A job the worker threw on (a run being made elsewhere, a store out of reach) comes back after this, as SQS's visibility timeout would bring it. */
const RETRY_AFTER_MS = 30_000;
/** Then it is dropped with a log line, as the DLQ would take it after three receives. */
const MAX_ATTEMPTS = 3;

/**
 * The local runtime's report function: jobs in memory, made one at a time in arrival order (a
 * report renders for seconds; two at once would only share the CPU), and timers that fire each
 * enabled schedule in its zone, the stand-in for EventBridge Scheduler. A job still queued when
 * the runtime stops is lost with it; its run stays queued in the index, visible as such.
 */
export class LocalReportRuns implements ReportJobQueue, ReportTimers {
  private readonly waiting: { job: ReportJob; attempt: number }[] = [];
  private readonly timers = new Map<string, Cron>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private working: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly work: ReportWorker,
    private readonly logger: Logger,
  ) {}

  async enqueue(job: ReportJob): Promise<void> {
    this.push(job, 1);
  }

  async sync(schedules: readonly ReportSchedule[]): Promise<void> {
    for (const cron of this.timers.values()) cron.stop();
    this.timers.clear();
    if (this.stopped) return;
    for (const schedule of schedules.filter((each) => each.enabled)) {
      const cron = new Cron(schedule.cron, { ...CRON_OPTIONS, timezone: schedule.timeZone, unref: true }, (self: Cron) => {
        // The time it was due, not now: the period is picked from it, as Scheduler's <aws.scheduler.scheduled-time>.
        const due = self.currentRun() ?? new Date();
        this.push({ type: 'schedule', scheduleId: schedule.id, firedAt: due.toISOString() }, 1);
      });
      this.timers.set(schedule.id, cron);
    }
  }

  /** Resolves when every job queued so far (and any it retried at once) is done: tests and the CLI wait on it. */
  async idle(): Promise<void> {
    while (this.working) await this.working;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const cron of this.timers.values()) cron.stop();
    for (const retry of this.retries) clearTimeout(retry);
    this.waiting.length = 0;
    await this.working;
  }

  private push(job: ReportJob, attempt: number): void {
    if (this.stopped) return;
    this.waiting.push({ job, attempt });
    this.working ??= this.drain().finally(() => {
      this.working = undefined;
    });
  }

  private async drain(): Promise<void> {
    // A turn first: the request that queued the job is answered before the work starts.
    await new Promise((resolve) => setImmediate(resolve));
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      const { job, attempt } = next;
      try {
        await this.work(job);
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'unknown';
        if (attempt >= MAX_ATTEMPTS) {
          this.logger.error('report job dropped after retries', { job: job.type, attempt, error: reason });
          continue;
        }
        this.logger.warn('report job failed; retrying', { job: job.type, attempt, error: reason });
        const retry = setTimeout(() => {
          this.retries.delete(retry);
          this.push(job, attempt + 1);
        }, RETRY_AFTER_MS);
        retry.unref();
        this.retries.add(retry);
      }
    }
  }
}
