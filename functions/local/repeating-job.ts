import type { Logger } from '../adapters/log';

/**
 * A job run every `intervalMs`, the local runtime's stand-in for an EventBridge schedule: the
 * next run is timed from the end of the last, so two never overlap; a failed run is logged and
 * the next one comes on time; `stop` waits for a run in flight, which a long job cuts short by
 * asking `running()` between its steps.
 */
export class RepeatingJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly job: (running: () => boolean) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  /** `firstAfterMs`: when the first run comes, a full interval unless said otherwise. */
  start(firstAfterMs = this.intervalMs): this {
    this.timer = setTimeout(() => void this.scheduledRun(), firstAfterMs);
    // A pending run never keeps the process alive: stopping is the owner's call.
    this.timer.unref();
    return this;
  }

  /** One run now, after any run in flight; its failure is the caller's. */
  async runNow(): Promise<void> {
    await this.running;
    const run = this.job(() => !this.stopped).then(() => undefined);
    this.running = run.catch(() => undefined);
    await run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async scheduledRun(): Promise<void> {
    await this.runNow().catch((error: unknown) => {
      this.logger.warn('scheduled job failed', { job: this.name, error: error instanceof Error ? error.message : 'unknown' });
    });
    if (!this.stopped) this.start();
  }
}
