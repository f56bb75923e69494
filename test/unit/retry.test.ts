import { attempt, doubling } from '../../functions/use-cases/retry';

describe('attempt', () => {
  const failing = (failures: number) => {
    let calls = 0;
    return async () => {
      calls += 1;
      if (calls <= failures) throw new Error(`failure ${calls}`);
      return calls;
    };
  };

  it('tries again after the policy\'s waits until the work succeeds, telling of each failure', async () => {
    const slept: number[] = [];
    const failures: string[] = [];
    const answer = await attempt({ attempts: 4, delayMs: doubling(200), onFailure: (error, tried) => failures.push(`${tried}: ${(error as Error).message}`) }, async (ms) => void slept.push(ms), failing(2));

    expect(answer).toEqual({ ok: true, value: 3, attempts: 3 });
    expect(slept).toEqual([200, 400]);
    expect(failures).toEqual(['1: failure 1', '2: failure 2']);
  });

  it('gives up after its attempts, or at once on a failure that may not be retried, answering the last error', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);

    const spent = await attempt({ attempts: 3, delayMs: doubling(100, 150) }, sleep, failing(5));
    const refused = await attempt({ attempts: 3, delayMs: doubling(100), retryable: () => false }, sleep, failing(5));

    expect([spent.ok, spent.attempts, !spent.ok && (spent.error as Error).message]).toEqual([false, 3, 'failure 3']);
    expect([refused.ok, refused.attempts]).toEqual([false, 1]);
    expect(slept).toEqual([100, 150]);
  });
});
