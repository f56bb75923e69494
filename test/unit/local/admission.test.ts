import { judgeAdmission, makeAdmission } from '../../../functions/local/admission';
import type { ConsumerLag } from '../../../functions/domain/operations/health';
import { jsonLogger } from '../../../functions/adapters/log';

const behind = (oldestAgeMs: number): ConsumerLag => ({ recordsBehind: 500, atLeast: true, oldestAgeMs });
const BOUNDS = { detect: 10_000, aggregate: 60_000 };

describe('ingest admission', () => {
  it('admits while every consumer is within its bound', () => {
    expect(judgeAdmission({ detect: behind(10_000), aggregate: behind(59_000) }, BOUNDS)).toEqual({ admit: true });
  });

  it('refuses for the consumer furthest over its bound, asking for the seconds it is over, 1 to 10', () => {
    expect(judgeAdmission({ detect: behind(13_200), aggregate: behind(61_000) }, BOUNDS)).toEqual({ admit: false, consumer: 'detect', oldestAgeMs: 13_200, retryAfterS: 4 });
    expect(judgeAdmission({ detect: behind(10_001), aggregate: behind(0) }, BOUNDS)).toMatchObject({ retryAfterS: 1 });
    expect(judgeAdmission({ detect: behind(0), aggregate: behind(600_000) }, BOUNDS)).toMatchObject({ consumer: 'aggregate', retryAfterS: 10 });
  });

  it('reads the lag once per period, whatever the number of requests', async () => {
    let now = 0;
    const reads: string[] = [];
    const admission = makeAdmission({
      lag: async (consumer) => (reads.push(consumer), behind(consumer === 'detect' && now > 0 ? 20_000 : 0)),
      clock: { now: () => new Date(now) },
      logger: jsonLogger('test', 'silent'),
      bounds: BOUNDS,
      cacheMs: 1_000,
    });

    const first = await Promise.all([admission(), admission(), admission()]);
    now = 999;
    const cached = await admission();
    now = 1_000;
    const next = await admission();

    expect([...first, cached].every((verdict) => verdict.admit)).toBe(true);
    expect(next).toMatchObject({ admit: false, consumer: 'detect' });
    expect(reads).toEqual(['detect', 'aggregate', 'detect', 'aggregate']);
  });

  it('admits when the lag cannot be read', async () => {
    const admission = makeAdmission({
      lag: async () => {
        throw new Error('the checkpoints are out of reach');
      },
      clock: { now: () => new Date(0) },
      logger: jsonLogger('test', 'silent'),
    });

    expect(await admission()).toEqual({ admit: true });
  });
});
