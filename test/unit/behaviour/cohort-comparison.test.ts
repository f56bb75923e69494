import { compareCohorts } from '../../../functions/domain/behaviour/cohort-comparison';
import type { UserFeatures } from '../../../functions/domain/behaviour/features';

/** Features where only what the comparison reads is set. */
const user = (sessionsPerWeek: number, phq9Change: number | null = null): UserFeatures =>
  ({ sessionsPerWeek, daysActive: 1, assessments: phq9Change === null ? {} : { 'PHQ-9': { baseline: 20, latest: 20 + phq9Change, change: phq9Change } } }) as unknown as UserFeatures;

describe('cohort comparison', () => {
  it("answers Welch's t-test as R's t.test does, with Hedges' g", () => {
    // R: t.test(c(1,2,3,4,5), c(2,3,4,5,9)): t = -1.1429, df = 6.452, p-value = 0.2937, 95 % CI -4.968 to 1.768.
    const answer = compareCohorts([1, 2, 3, 4, 5].map((n) => user(n)), [2, 3, 4, 5, 9].map((n) => user(n)), ['sessionsPerWeek'], 5);
    const [metric] = answer.metrics;
    expect(metric?.a.mean).toBe(3);
    expect(metric?.b.mean).toBe(4.6);
    // R: t.test(c(1,2,3,4,5))$conf.int: 1.036757 4.963243.
    expect(metric?.a.ci95[0]).toBeCloseTo(1.036757, 5);
    expect(metric?.a.ci95[1]).toBeCloseTo(4.963243, 5);
    expect(metric?.difference.estimate).toBeCloseTo(-1.6, 12);
    expect(metric?.difference.pValue).toBeCloseTo(0.2937, 4);
    expect(metric?.difference.ci95[0]).toBeCloseTo(-4.9683, 4);
    expect(metric?.difference.ci95[1]).toBeCloseTo(1.7683, 4);
    // Pooled sd sqrt((4 x 2.5 + 4 x 7.3) / 8) = 2.2136; d = -0.72281; J = 1 - 3 / 31.
    expect(metric?.difference.effectSize).toBeCloseTo(-0.65286, 4);
    expect(metric?.difference.test).toBe('welch_t');
  });

  it("adjusts p-values by Holm's step-down across the metrics asked for", () => {
    const a = Array.from({ length: 30 }, (_, i) => user(3 + (i % 5) * 0.1, -6 - (i % 3)));
    const b = Array.from({ length: 30 }, (_, i) => user(3.1 + (i % 5) * 0.1, -2 - (i % 4)));
    const { metrics } = compareCohorts(a, b, ['sessionsPerWeek', 'phq9Change'], 5);
    const raw = metrics.map((metric) => metric.difference.pValue);
    const [smaller, larger] = [Math.min(...raw), Math.max(...raw)];
    const holm = [Math.min(1, 2 * smaller), Math.min(1, Math.max(2 * smaller, larger))];
    expect(metrics.map((metric) => metric.difference.pAdjusted).sort((x, y) => x - y)).toEqual(holm.sort((x, y) => x - y));
  });

  it('suppresses a metric either cohort has for fewer than k users, and counts only users with the figure', () => {
    const a = [...Array.from({ length: 6 }, () => user(2, -3)), user(2)];
    const b = [...Array.from({ length: 4 }, () => user(4, -1)), ...Array.from({ length: 3 }, () => user(4))];
    const answer = compareCohorts(a, b, ['sessionsPerWeek', 'phq9Change'], 5);
    expect(answer.metrics.map((metric) => [metric.metric, metric.a.users, metric.b.users])).toEqual([['sessionsPerWeek', 7, 7]]);
    expect(answer.suppressed).toEqual([{ metric: 'phq9Change', reason: 'k_anonymity' }]);
  });
});
