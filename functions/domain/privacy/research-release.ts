import { z } from 'zod';
import type { StoredEvent } from '../events/schema';
import { METRICS, type StoredMetric } from '../rollups/catalogue';
import { memberHash } from '../rollups/distinct-sketch';
import { boundContributions } from './noise/contribution-bounding';
import { discreteGaussianMechanism, discreteLaplaceMechanism, gaussianMechanism, laplaceMechanism, type GridRelease, type NoisyRelease, type PrivacyCost } from './noise/mechanisms';
import { noiseHalfWidth, type MissProbability } from './noise/noise-intervals';
import type { RandomBits } from './noise/random-bits';
import { boundedInstant } from '../api/input-bounds';

/** The dataset research releases spend from: events of users who gave research consent. */
export const RESEARCH_DATASET = 'research';

/**
 * The range each metric's values are clamped to before a release: the noise is sized for a user
 * moving a sum by at most m·max(|lower|, |upper|), so that bound must hold on the data. Counters
 * contribute 1 per event. Durations and response times are cut at what a session or a choice
 * plausibly takes; a longer value counts as that long.
 */
export const RESEARCH_BOUNDS: Readonly<Record<string, { readonly lower: number; readonly upper: number }>> = {
  events: { lower: 0, upper: 1 },
  sessions: { lower: 0, upper: 1 },
  'sessions.completed': { lower: 0, upper: 1 },
  interventions: { lower: 0, upper: 1 },
  'session.duration': { lower: 0, upper: 7_200 },
  'choice.response_time': { lower: 0, upper: 120_000 },
  'choice.therapeutic_value': { lower: 0, upper: 1 },
  'mood.valence': { lower: -1, upper: 1 },
  'assessment.score': { lower: 0, upper: 27 },
};

const RESEARCH_METRICS = METRICS.filter((metric): metric is StoredMetric => 'extract' in metric && metric.name in RESEARCH_BOUNDS);
export const RESEARCH_METRIC_NAMES = RESEARCH_METRICS.map((metric) => metric.name) as [string, ...string[]];

/** One value of a research-consented event, as the research store keeps it: under a 64-bit hash of the pseudonym. */
export interface ResearchValue {
  readonly subjectHash: bigint;
  readonly metric: string;
  readonly occurredAt: string;
  readonly value: number;
  readonly eventId: string;
}

/** The values the events marked for research contribute, one per metric each feeds. */
export function researchValues(events: readonly StoredEvent[]): ResearchValue[] {
  const values: ResearchValue[] = [];
  for (const event of events) {
    if (event.research !== true) continue;
    for (const metric of RESEARCH_METRICS) {
      const contribution = metric.extract(event);
      if (contribution) values.push({ subjectHash: memberHash(event.subject), metric: metric.name, occurredAt: event.occurredAt, value: contribution.value, eventId: event.eventId });
    }
  }
  return values;
}

export interface ResearchQuery {
  readonly metric: string;
  readonly epsilon: number;
  readonly mechanism: 'laplace' | 'gaussian';
  /** Gaussian only. */
  readonly delta?: number;
  /** m: values kept per user over the whole range. */
  readonly maxContributionsPerUser: number;
}

/** Every interval a release states holds the true figure with at least this probability. */
export const CONFIDENCE = 0.95;

export interface Interval {
  readonly confidence: typeof CONFIDENCE;
  readonly lower: number;
  readonly upper: number;
}

/** A count or sum as released: post-processed into its possible range, with its noise and a 95 % interval. */
export type ReleasedFigure = Omit<NoisyRelease, 'spent'> & { readonly interval: Interval };

/** A mean as released: inside the metric's bounds; its standard deviation is a first-order approximation (see {@link releaseResearch}). Any figure reads as one. */
export interface ReleasedMean {
  readonly value: number;
  readonly standardDeviation: number;
  readonly interval: Interval;
}

export const SUPPRESSION_REASONS = ['k_anonymity', 'no_research_consent', 'insufficient_data'] as const;

/**
 * Why a line, or one figure of a released line (`figure`), was not released. The metric answers'
 * `{"reason": "k_anonymity"}`, with a message a reader can act on.
 */
export interface Suppression {
  readonly reason: (typeof SUPPRESSION_REASONS)[number];
  readonly figure?: 'mean';
  readonly message: string;
}

/**
 * A line withheld whole. With nobody in the research dataset at all, k-anonymity is not what stops
 * it, and a new user needs to learn that research consent is what feeds it.
 */
export function withheldLine(reason: 'k_anonymity' | 'no_research_consent', k: number): Suppression {
  return reason === 'k_anonymity'
    ? { reason, message: `fewer than ${k} research-consented users contributed to this metric over the range` }
    : {
        reason,
        message: 'the research dataset holds no one: only events of users who gave research consent (PUT /v1/consent/{userId} with "research": true) are released, and none are held',
      };
}

/** A released line's mean withheld: its count cannot carry one. */
export const INSUFFICIENT_MEAN: Suppression = {
  reason: 'insufficient_data',
  figure: 'mean',
  message: "the noisy count is too small to carry a mean: the mean's 95 % interval would span the metric's whole range",
};

export interface ResearchRelease {
  readonly count: ReleasedFigure;
  /** Distributions only: the noisy sum of the clamped values, and the mean it gives when the count can carry one. */
  readonly sum?: ReleasedFigure & { readonly granularity: number };
  readonly mean?: ReleasedMean;
  /** [] or the mean withheld as `insufficient_data`. */
  readonly suppressed: readonly Suppression[];
  readonly spent: PrivacyCost;
  readonly bounds: { readonly lower: number; readonly upper: number };
}

/** What a release will spend, known before the data is read (so the ledger can refuse first). */
export function researchCost(query: ResearchQuery): PrivacyCost {
  return { epsilon: query.epsilon, delta: query.mechanism === 'gaussian' ? (query.delta ?? 0) : 0 };
}

/**
 * A count (and, for a distribution, a sum and mean) of one metric's research values, with
 * contribution bounding and noise from the exact mechanisms. For a distribution, ε and δ are
 * split evenly between the count and the sum (sequential composition). The sum's grid step is
 * the largest power of two at or below a thousandth of the clamping range.
 *
 * The noisy figures are then post-processed, which costs no privacy (a function of a DP output
 * is DP): a count is at least 0, a sum of values that are all ≥ 0 (≤ 0) is too, and each carries
 * its noise and a 95 % interval (`noiseHalfWidth`), cut to the same range. The mean is
 * sum / count, with the interval the count's and the sum's 97.5 % intervals allow together (both
 * hold with probability ≥ 95 %, by the union bound): the extremes of s/c over the box
 * s ∈ sum ± h_s, c ∈ count ± h_c. It is withheld as `insufficient_data` when the count cannot
 * carry it: when the count's interval reaches below one value (the data may hold none, and a
 * ratio over a denominator near 0 is anything), or when the interval spans the metric's whole
 * range (it says nothing the bounds did not). Otherwise the mean and its interval are cut to the
 * bounds. Its standard deviation is the first-order one, √(Var sum + mean²·Var count) / count.
 */
export function releaseResearch(random: RandomBits, rows: readonly { readonly subjectHash: bigint; readonly value: number }[], query: ResearchQuery): ResearchRelease {
  const bounds = RESEARCH_BOUNDS[query.metric];
  if (!bounds) throw new RangeError(`no research bounds for ${query.metric}`);
  const byUser = new Map<bigint, number[]>();
  for (const row of rows) {
    const values = byUser.get(row.subjectHash);
    if (values) values.push(row.value);
    else byUser.set(row.subjectHash, [row.value]);
  }
  const bounded = boundContributions(random, byUser, { maxContributionsPerUser: query.maxContributionsPerUser, ...bounds });
  const isCounter = RESEARCH_METRICS.find((metric) => metric.name === query.metric)?.kind === 'counter';
  const parts = isCounter ? 1 : 2;
  const epsilon = query.epsilon / parts;
  const delta = (query.delta ?? 0) / parts;
  const count =
    query.mechanism === 'gaussian'
      ? discreteGaussianMechanism(random, { value: bounded.count, sensitivity: bounded.countSensitivity, epsilon, delta })
      : discreteLaplaceMechanism(random, { value: bounded.count, sensitivity: bounded.countSensitivity, epsilon });
  const released = { count: postProcessed(count, { lower: 0, upper: Infinity }), spent: researchCost(query), bounds };
  if (isCounter) return { ...released, suppressed: [] };
  const granularity = 2 ** Math.floor(Math.log2((bounds.upper - bounds.lower) / 1_000));
  const sumQuery = { value: bounded.sum, sensitivity: bounded.sumSensitivity, epsilon, granularity };
  const sum = query.mechanism === 'gaussian' ? gaussianMechanism(random, { ...sumQuery, delta }) : laplaceMechanism(random, sumQuery);
  const sumRange = { lower: bounds.lower >= 0 ? 0 : -Infinity, upper: bounds.upper <= 0 ? 0 : Infinity };
  const mean = meanOf(count, sum, bounds);
  return { ...released, sum: { ...postProcessed(sum, sumRange), granularity }, ...(mean ? { mean, suppressed: [] } : { suppressed: [INSUFFICIENT_MEAN] }) };
}

const clamp = (value: number, range: { readonly lower: number; readonly upper: number }) => Math.min(range.upper, Math.max(range.lower, value));

/**
 * The half-width of an interval around a release that holds its true figure with probability at
 * least 1 - α: the noise's, and for a sum, the λ/2 the exact sum may have been rounded by to reach
 * the grid before the noise was added.
 */
function halfWidth(release: NoisyRelease & { readonly granularity?: number }, alpha: MissProbability): number {
  const granularity = release.granularity ?? 1;
  return noiseHalfWidth(release.noise, granularity, alpha) + (release.granularity === undefined ? 0 : granularity / 2);
}

function postProcessed(noisy: NoisyRelease & { readonly granularity?: number }, range: { readonly lower: number; readonly upper: number }): ReleasedFigure {
  const { spent: _spent, ...release } = noisy;
  const halfWidth95 = halfWidth(noisy, 0.05);
  return {
    ...release,
    value: clamp(noisy.value, range),
    interval: { confidence: CONFIDENCE, lower: clamp(noisy.value - halfWidth95, range), upper: clamp(noisy.value + halfWidth95, range) },
  };
}

function meanOf(count: NoisyRelease, sum: GridRelease, bounds: { readonly lower: number; readonly upper: number }): ReleasedMean | undefined {
  const countHalfWidth = halfWidth(count, 0.025);
  const sumHalfWidth = halfWidth(sum, 0.025);
  const fewest = count.value - countHalfWidth;
  if (fewest < 1) return undefined;
  const most = count.value + countHalfWidth;
  const ratios = [sum.value - sumHalfWidth, sum.value + sumHalfWidth].flatMap((s) => [s / fewest, s / most]);
  const lower = Math.min(...ratios);
  const upper = Math.max(...ratios);
  if (lower <= bounds.lower && upper >= bounds.upper) return undefined;
  const value = clamp(sum.value / count.value, bounds);
  return {
    value,
    standardDeviation: Math.sqrt(sum.variance + value * value * count.variance) / count.value,
    interval: { confidence: CONFIDENCE, lower: clamp(lower, bounds), upper: clamp(upper, bounds) },
  };
}

const MAX_RANGE_DAYS = 400;

/**
 * The ε and δ one release may ask for. Below ε = 0.01 the noise drowns any answer (a count's
 * standard deviation passes 140 users) and its scale stops being a number the samplers take; above
 * 10 the guarantee is gone. Gaussian noise needs δ > 0; δ above 1e-3 is no longer "cryptographically
 * small" for the few thousand users a study holds. The schema refuses anything outside, so no
 * ledger spend is ever recorded for a release that cannot run.
 */
export const EPSILON_RANGE = { min: 0.01, max: 10 } as const;
export const DELTA_RANGE = { min: 1e-10, max: 1e-3 } as const;

/** What every release from the research dataset states: the range, the privacy cost and the contribution bound. */
export const releaseParameters = {
  from: boundedInstant,
  to: boundedInstant,
  epsilon: z.number().min(EPSILON_RANGE.min).max(EPSILON_RANGE.max),
  mechanism: z.enum(['laplace', 'gaussian']).default('laplace'),
  delta: z.number().min(DELTA_RANGE.min).max(DELTA_RANGE.max).optional(),
  maxContributionsPerUser: z.number().int().min(1).max(1_000).default(10),
};

type ReleaseParameters = { from: string; to: string; mechanism: 'laplace' | 'gaussian'; delta?: number | undefined };

export function withReleaseRules<Schema extends z.ZodType<ReleaseParameters>>(schema: Schema) {
  return schema
    .refine((body) => Date.parse(body.to) > Date.parse(body.from), { message: 'must be after from', path: ['to'] })
    .refine((body) => Date.parse(body.to) - Date.parse(body.from) <= MAX_RANGE_DAYS * 86_400_000, { message: `the range may be at most ${MAX_RANGE_DAYS} days`, path: ['to'] })
    .refine((body) => (body.mechanism === 'gaussian') === (body.delta !== undefined), { message: 'is required with the gaussian mechanism and only with it', path: ['delta'] });
}

/** The body of POST /v1/research/exports: one metric. */
export const researchExportSchema = withReleaseRules(z.strictObject({ metric: z.enum(RESEARCH_METRIC_NAMES), ...releaseParameters }));
export type ResearchExportRequest = z.infer<typeof researchExportSchema>;

/** One metric's line of the research report: its release, or why it was left out. */
export type ReportLine = { readonly metric: string; readonly release: ResearchRelease } | { readonly metric: string; readonly suppressed: Suppression };

/** The report's suppressions, a line's or one of its figures', each under its metric: the summary lists these. */
export function reportSuppressions(lines: readonly ReportLine[]): (Suppression & { readonly metric: string })[] {
  return lines.flatMap((line) => ('release' in line ? line.release.suppressed : [line.suppressed]).map((suppression) => ({ metric: line.metric, ...suppression })));
}

const csvNumber = (value: number | undefined) => (value === undefined ? '' : String(value));
const csvFigure = (figure: ReleasedMean | undefined) => [figure?.value, figure?.standardDeviation, figure?.interval.lower, figure?.interval.upper].map(csvNumber);

/**
 * The research report as CSV: a line per metric, each figure with its noise's standard deviation
 * and its 95 % interval (low, high). `suppressed` holds the reason a line, or its mean, was
 * withheld; the withheld figures' cells are empty.
 */
export function researchReportCsv(lines: readonly ReportLine[]): string {
  const header = 'metric,count,count_sd,count_low,count_high,sum,sum_sd,sum_low,sum_high,mean,mean_sd,mean_low,mean_high,clamped_to,suppressed';
  const rows = lines.map((line) => {
    if (!('release' in line)) return [line.metric, ...Array.from({ length: 13 }, () => ''), line.suppressed.reason].join(',');
    const { count, sum, mean, bounds, suppressed } = line.release;
    return [line.metric, ...csvFigure(count), ...csvFigure(sum), ...csvFigure(mean), `${bounds.lower}..${bounds.upper}`, suppressed.map((each) => each.reason).join(';')].join(',');
  });
  return `${[header, ...rows].join('\n')}\n`;
}
