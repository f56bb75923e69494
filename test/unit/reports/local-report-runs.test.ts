import { LocalReportRuns } from '../../../functions/local/report-runs';
import type { ReportJob } from '../../../functions/ports/reports';

const LOGGER = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => LOGGER } as never;

describe("the local runtime's report runs", () => {
  it('makes jobs one at a time in arrival order, after the request that queued them is answered', async () => {
    const order: string[] = [];
    let running = 0;
    const runs = new LocalReportRuns(async (job) => {
      running += 1;
      expect(running).toBe(1);
      order.push(job.type === 'schedule' ? job.scheduleId : job.reportId);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
    }, LOGGER);

    await runs.enqueue({ type: 'run', reportId: 'a' });
    await runs.enqueue({ type: 'run', reportId: 'b' });
    order.push('answered');
    await runs.idle();
    await runs.stop();

    expect(order).toEqual(['answered', 'a', 'b']);
  });

  it('fires each enabled schedule as a job naming the schedule and the time it fired, and none once stopped', async () => {
    const jobs: ReportJob[] = [];
    const runs = new LocalReportRuns(async (job) => void jobs.push(job), LOGGER);
    await runs.sync([
      { id: 'on', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', formats: ['pdf'], recipients: [], enabled: true },
      { id: 'off', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', formats: ['pdf'], recipients: [], enabled: false },
    ]);
    const timers = (runs as unknown as { timers: Map<string, { trigger(): Promise<void>; nextRun(): Date | null }> }).timers;

    expect([...timers.keys()]).toEqual(['on']);
    expect(timers.get('on')!.nextRun()!.getUTCDay()).toBe(1);
    await timers.get('on')!.trigger();
    await runs.idle();
    await runs.stop();
    await runs.enqueue({ type: 'run', reportId: 'after-stop' });
    await runs.idle();

    expect(jobs).toEqual([{ type: 'schedule', scheduleId: 'on', firedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
  });
});
