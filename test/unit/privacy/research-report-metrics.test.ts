import { emfMetrics } from '../../../functions/adapters/aws/emf-metrics';
import { cryptoRandomBits } from '../../../functions/adapters/crypto-random';
import { reportRequestSchema, type ResearchReportRequest } from '../../../functions/domain/reports/request';
import { METRICS_NAMESPACE, REPORT_METRIC_NAMES } from '../../../functions/ports/anomalies';
import type { PrivacyLedger } from '../../../functions/ports/privacy-ledger';
import { makeResearchRelease } from '../../../functions/use-cases/research-report';
import { steppedClock } from '../../support/alert-rules';

const T0 = Date.parse('2026-12-01T09:00:00.000Z');
const K = 3;
const request = reportRequestSchema.parse({ kind: 'research', from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', epsilon: 1 }) as ResearchReportRequest;
const REPORT_ID = '5d7e9b1c-0000-4000-8000-000000000001';
const caller = { actor: 'analyst-1', role: 'analyst' };

/** Values of `users` research-consented people for every metric; each read takes 250 ms of the test's clock, or fails with `failure`. */
function researchValues(users: number, clock: ReturnType<typeof steppedClock>, failure?: Error) {
  return {
    valuesOf: async () => {
      clock.advance(250);
      if (failure) throw failure;
      return Array.from({ length: users }, (_, i) => ({ subjectHash: BigInt(i + 1), value: 1 }));
    },
    holdsAnyone: async () => users > 0,
  };
}

function ledger(decision: 'ok' | 'exhausted'): PrivacyLedger {
  return {
    spend: async () => (decision === 'ok' ? { ok: true, remainingAfter: { epsilon: 9, delta: 0 } } : { ok: false, reason: 'privacy_budget_exhausted', remaining: { epsilon: 0.1, delta: 0 } }),
    spent: async () => [],
  };
}


describe('research report releases, as embedded metric lines', () => {
  let lines: Record<string, unknown>[];
  const metrics = emfMetrics(METRICS_NAMESPACE, 'query', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  beforeEach(() => {
    lines = [];
  });

  function report(options: { users: number; decision: 'ok' | 'exhausted'; failure?: Error }) {
    const clock = steppedClock(T0);
    return makeResearchRelease({
      values: researchValues(options.users, clock, options.failure),
      ledger: ledger(options.decision),
      budget: { epsilon: 10, delta: 0 },
      k: K,
      random: cryptoRandomBits(),
      clock,
      metrics,
    });
  }
  const runs = () => lines.filter((line) => REPORT_METRIC_NAMES.runs in line).map((line) => [line['kind'], line['outcome'], line[REPORT_METRIC_NAMES.runs]]);
  const durations = () => lines.filter((line) => REPORT_METRIC_NAMES.duration in line).map((line) => [line['kind'], line[REPORT_METRIC_NAMES.duration]]);

  it('counts a release drawn as released, with its duration in milliseconds', async () => {
    const result = await report({ users: K, decision: 'ok' })(request, caller, REPORT_ID);

    expect(result.status).toBe('released');
    expect(runs()).toEqual([['research', 'released', 1]]);
    const [[, duration]] = durations() as [[string, number]];
    // One 250 ms read per research metric, all within the run.
    expect(duration).toBeGreaterThanOrEqual(250);
    expect(lines.find((line) => REPORT_METRIC_NAMES.duration in line)?.['_aws']).toMatchObject({ CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['service', 'kind']], Metrics: [{ Name: REPORT_METRIC_NAMES.duration, Unit: 'Milliseconds' }] }] });
  });

  it('counts a release the privacy budget refused as refused, not as a failure', async () => {
    const result = await report({ users: K, decision: 'exhausted' })(request, caller, REPORT_ID);

    expect(result.status).toBe('refused');
    expect(runs()).toEqual([['research', 'refused', 1]]);
  });

  it('counts a release that threw as failed, and still passes the error on', async () => {
    await expect(report({ users: K, decision: 'ok', failure: new Error('the database did not answer') })(request, caller, REPORT_ID)).rejects.toThrow('the database did not answer');

    expect(runs()).toEqual([['research', 'failed', 1]]);
    expect(durations()).toHaveLength(1);
  });
});
