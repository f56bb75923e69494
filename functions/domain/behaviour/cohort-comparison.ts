import padjust from '@stdlib/stats-padjust';
import ttest from '@stdlib/stats-ttest';
import ttest2 from '@stdlib/stats-ttest2';
import type { UserFeatures } from './features';

/** The per-user figures two cohorts can be compared on, each from a user's features; null where the user has none. */
export const COMPARABLE_METRICS = {
  sessionsPerWeek: (features: UserFeatures) => features.sessionsPerWeek,
  completionRate: (features: UserFeatures) => features.completionRate,
  sessionDurationSec: (features: UserFeatures) => features.sessionDurationSec,
  choiceResponseMs: (features: UserFeatures) => features.choiceResponseMs,
  interventionCompletionRate: (features: UserFeatures) => features.interventionCompletionRate,
  moodValence: (features: UserFeatures) => features.moodValence,
  moodSlope: (features: UserFeatures) => features.moodSlope,
  daysActive: (features: UserFeatures) => features.daysActive,
  phq9Change: (features: UserFeatures) => features.assessments['PHQ-9']?.change ?? null,
  gad7Change: (features: UserFeatures) => features.assessments['GAD-7']?.change ?? null,
} as const satisfies Record<string, (features: UserFeatures) => number | null>;
export type ComparableMetric = keyof typeof COMPARABLE_METRICS;
export const COMPARABLE_METRIC_NAMES = Object.keys(COMPARABLE_METRICS) as [ComparableMetric, ...ComparableMetric[]];

export interface CohortSide {
  /** Users of the cohort that have the figure. */
  readonly users: number;
  readonly mean: number;
  readonly ci95: readonly [number, number];
}

export interface MetricComparison {
  readonly metric: ComparableMetric;
  readonly a: CohortSide;
  readonly b: CohortSide;
  readonly difference: {
    /** Mean of a minus mean of b. */
    readonly estimate: number;
    readonly ci95: readonly [number, number];
    readonly pValue: number;
    /** Holm's step-down adjustment across the metrics of one comparison. */
    readonly pAdjusted: number;
    /** Hedges' g: the difference in pooled standard deviations, corrected for small samples. */
    readonly effectSize: number;
    readonly test: 'welch_t';
  };
}

export interface Comparison {
  readonly metrics: readonly MetricComparison[];
  /** Metrics where either cohort has fewer than k users with the figure: one entry each, no figure. */
  readonly suppressed: readonly { readonly metric: ComparableMetric; readonly reason: 'k_anonymity' }[];
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const variance = (values: readonly number[], centre: number) => values.reduce((sum, value) => sum + (value - centre) ** 2, 0) / (values.length - 1);

/**
 * Welch's t, for it does not assume the two cohorts vary alike (engagement figures seldom do),
 * and by the central limit theorem holds for the skewed per-user figures at the sizes the
 * release gate lets through (k and up). A side whose figures do not vary at all has no interval
 * a t-test can give; its interval is the point.
 */
function side(values: readonly number[]): CohortSide {
  const centre = mean(values);
  if (variance(values, centre) === 0) return { users: values.length, mean: centre, ci95: [centre, centre] };
  const { ci } = ttest(values as number[]);
  return { users: values.length, mean: centre, ci95: [ci[0]!, ci[1]!] };
}

function hedgesG(a: readonly number[], b: readonly number[]): number {
  const [ma, mb] = [mean(a), mean(b)];
  const pooled = Math.sqrt(((a.length - 1) * variance(a, ma) + (b.length - 1) * variance(b, mb)) / (a.length + b.length - 2));
  if (pooled === 0) return 0;
  const correction = 1 - 3 / (4 * (a.length + b.length) - 9);
  return ((ma - mb) / pooled) * correction;
}

/**
 * Compares two cohorts' users on each metric asked for. Each side must hold at least k users
 * with the figure (and two, for a variance), else the metric is suppressed: a mean over fewer
 * than k people is too close to their own figures.
 */
export function compareCohorts(a: readonly UserFeatures[], b: readonly UserFeatures[], metrics: readonly ComparableMetric[], k: number): Comparison {
  const released: { metric: ComparableMetric; a: number[]; b: number[] }[] = [];
  const suppressed: Comparison['suppressed'][number][] = [];
  const least = Math.max(k, 2);
  for (const metric of metrics) {
    const figure = COMPARABLE_METRICS[metric];
    const [ofA, ofB] = [a, b].map((users) => users.map(figure).filter((value): value is number => value !== null)) as [number[], number[]];
    if (ofA.length < least || ofB.length < least) suppressed.push({ metric, reason: 'k_anonymity' });
    else released.push({ metric, a: ofA, b: ofB });
  }
  const tests = released.map(({ a: ofA, b: ofB }) => {
    const constant = variance(ofA, mean(ofA)) === 0 && variance(ofB, mean(ofB)) === 0;
    // Two constant samples: no spread to test against; equal means are no evidence, unequal ones certain.
    if (constant) return { pValue: mean(ofA) === mean(ofB) ? 1 : 0, ci: [mean(ofA) - mean(ofB), mean(ofA) - mean(ofB)] };
    const { pValue, ci } = ttest2(ofA, ofB);
    return { pValue, ci: [ci[0]!, ci[1]!] };
  });
  const adjusted = tests.length === 0 ? [] : padjust(tests.map((test) => test.pValue), 'holm');
  return {
    metrics: released.map(({ metric, a: ofA, b: ofB }, i) => ({
      metric,
      a: side(ofA),
      b: side(ofB),
      difference: { estimate: mean(ofA) - mean(ofB), ci95: [tests[i]!.ci[0]!, tests[i]!.ci[1]!], pValue: tests[i]!.pValue, pAdjusted: adjusted[i]!, effectSize: hedgesG(ofA, ofB), test: 'welch_t' },
    })),
    suppressed,
  };
}
