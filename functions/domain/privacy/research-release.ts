import { z } from 'zod';
import type { StoredEvent } from '../events/schema';
import { METRICS, type StoredMetric } from '../rollups/catalogue';
import { memberHash } from '../rollups/distinct-sketch';
import { boundContributions } from './noise/contribution-bounding';
import { discreteGaussianMechanism, discreteLaplaceMechanism, gaussianMechanism, laplaceMechanism, type NoisyRelease, type PrivacyCost } from './noise/mechanisms';
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

export interface ResearchRelease {
  readonly count: Omit<NoisyRelease, 'spent'>;
  /** Distributions only: the noisy sum of the clamped values, and the mean it gives. */
  readonly sum?: Omit<NoisyRelease, 'spent'>;
  readonly mean?: number;
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
  const strip = ({ spent: _spent, ...release }: NoisyRelease) => release;
  if (isCounter) return { count: strip(count), spent: researchCost(query), bounds };
  const granularity = 2 ** Math.floor(Math.log2((bounds.upper - bounds.lower) / 1_000));
  const sumQuery = { value: bounded.sum, sensitivity: bounded.sumSensitivity, epsilon, granularity };
  const sum = query.mechanism === 'gaussian' ? gaussianMechanism(random, { ...sumQuery, delta }) : laplaceMechanism(random, sumQuery);
  return { count: strip(count), sum: strip(sum), mean: sum.value / Math.max(1, count.value), spent: researchCost(query), bounds };
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
const releaseParameters = {
  from: boundedInstant,
  to: boundedInstant,
  epsilon: z.number().min(EPSILON_RANGE.min).max(EPSILON_RANGE.max),
  mechanism: z.enum(['laplace', 'gaussian']).default('laplace'),
  delta: z.number().min(DELTA_RANGE.min).max(DELTA_RANGE.max).optional(),
  maxContributionsPerUser: z.number().int().min(1).max(1_000).default(10),
};

type ReleaseParameters = { from: string; to: string; mechanism: 'laplace' | 'gaussian'; delta?: number | undefined };

function withReleaseRules<Schema extends z.ZodType<ReleaseParameters>>(schema: Schema) {
  return schema
    .refine((body) => Date.parse(body.to) > Date.parse(body.from), { message: 'must be after from', path: ['to'] })
    .refine((body) => Date.parse(body.to) - Date.parse(body.from) <= MAX_RANGE_DAYS * 86_400_000, { message: `the range may be at most ${MAX_RANGE_DAYS} days`, path: ['to'] })
    .refine((body) => (body.mechanism === 'gaussian') === (body.delta !== undefined), { message: 'is required with the gaussian mechanism and only with it', path: ['delta'] });
}

/** The body of POST /v1/research/exports: one metric. */
export const researchExportSchema = withReleaseRules(z.strictObject({ metric: z.enum(RESEARCH_METRIC_NAMES), ...releaseParameters }));
export type ResearchExportRequest = z.infer<typeof researchExportSchema>;

/** The body of POST /v1/reports: the research report, every research metric over the range. */
export const researchReportSchema = withReleaseRules(z.strictObject({ kind: z.literal('research'), ...releaseParameters }));
export type ResearchReportRequest = z.infer<typeof researchReportSchema>;

/** One metric's line of the research report: its release, or why it was left out. */
export type ReportLine = { readonly metric: string; readonly release: ResearchRelease } | { readonly metric: string; readonly suppressed: 'k_anonymity' };

const csvNumber = (value: number | undefined) => (value === undefined ? '' : String(value));

/** The research report as CSV: a line per metric, noisy figures with their standard deviations. */
export function researchReportCsv(lines: readonly ReportLine[]): string {
  const header = 'metric,count,count_sd,sum,sum_sd,mean,clamped_to,suppressed';
  const rows = lines.map((line) =>
    'release' in line
      ? [line.metric, csvNumber(line.release.count.value), csvNumber(line.release.count.standardDeviation), csvNumber(line.release.sum?.value), csvNumber(line.release.sum?.standardDeviation), csvNumber(line.release.mean), `${line.release.bounds.lower}..${line.release.bounds.upper}`, ''].join(',')
      : [line.metric, '', '', '', '', '', '', line.suppressed].join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}
