import { jsonLogger } from '../../../functions/adapters/log';
import { RepeatingJob } from '../../../functions/local/repeating-job';

describe('RepeatingJob', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs every interval, timed from the end of the last run, never two at once', async () => {
    const starts: number[] = [];
    let active = 0;
    let overlapped = false;
    const job = new RepeatingJob('job', 1_000, async () => {
      starts.push(Date.now());
      overlapped ||= ++active > 1;
      await new Promise((resolve) => setTimeout(resolve, 300));
      active--;
    }, jsonLogger('test', 'silent')).start();
    const t0 = Date.now();
    await jest.advanceTimersByTimeAsync(2_400);
    expect(starts.map((t) => t - t0)).toEqual([1_000, 2_300]);
    // Asked for while the 2,300 run is in flight: it waits for that run's end (2,600).
    const now = job.runNow();
    await jest.advanceTimersByTimeAsync(1_500);
    await now;
    expect(starts.map((t) => t - t0)).toEqual([1_000, 2_300, 2_600, 3_600]);
    expect(overlapped).toBe(false);
    await job.stop();
  });

  it('runs first after the delay it is started with, then every interval', async () => {
    const starts: number[] = [];
    const job = new RepeatingJob('soon', 1_000, async () => void starts.push(Date.now()), jsonLogger('test', 'silent')).start(100);
    const t0 = Date.now();
    await jest.advanceTimersByTimeAsync(2_200);
    expect(starts.map((t) => t - t0)).toEqual([100, 1_100, 2_100]);
    await job.stop();
  });

  it('logs a failed run and runs again on time', async () => {
    const lines: string[] = [];
    let runs = 0;
    const job = new RepeatingJob('flaky', 100, async () => {
      if (++runs === 1) throw new Error('database gone');
    }, jsonLogger('test', 'info', (line) => lines.push(line))).start();
    await jest.advanceTimersByTimeAsync(250);
    expect(runs).toBe(2);
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ level: 'warn', message: 'scheduled job failed', job: 'flaky', error: 'database gone' })]);
    await job.stop();
  });

  it('answers a failed runNow to its caller', async () => {
    const job = new RepeatingJob('job', 1_000, async () => Promise.reject(new Error('no')), jsonLogger('test', 'silent'));
    await expect(job.runNow()).rejects.toThrow('no');
  });

  it('tells a long run to stop, waits for it, and schedules no further run', async () => {
    let steps = 0;
    const job = new RepeatingJob('long', 100, async (running) => {
      while (running()) {
        steps++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }, jsonLogger('test', 'silent')).start();
    await jest.advanceTimersByTimeAsync(150);
    const stopped = job.stop();
    await jest.advanceTimersByTimeAsync(20);
    await stopped;
    const after = steps;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(after).toBeGreaterThan(0);
    expect(steps).toBe(after);
  });
});
