import type { StoredEvent } from '../events/schema';

/**
 * The metric catalogue of DESIGN.md "Metrics". A metric with `extract` owns rollup rows; one
 * with `readsFrom` is answered from another metric's rows (active users are the distinct users
 * of the `events` rollups, which already carry a users sketch per group).
 */

export const METRIC_KINDS = ['counter', 'distribution', 'distinct'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

/** What one event contributes to a metric: a value (1 for counters) and its dimension values, in `dimensions` order. */
export interface Contribution {
  readonly value: number;
  readonly dimensions: readonly string[];
}

interface MetricBase {
  readonly name: string;
  readonly kind: MetricKind;
  readonly description: string;
  /** What a point's count (counters) or values (distributions) are in. */
  readonly unit: string;
  readonly dimensions: readonly string[];
}

export interface StoredMetric extends MetricBase {
  readonly kind: 'counter' | 'distribution';
  /** undefined when the event does not feed the metric. */
  extract(event: StoredEvent): Contribution | undefined;
}

export interface DerivedMetric extends MetricBase {
  readonly kind: 'distinct';
  /** The stored metric whose rows answer this one; `dimensions` are a subset of its dimensions. */
  readonly readsFrom: string;
}

export type MetricDefinition = StoredMetric | DerivedMetric;

/** The `platform` dimension: the app's platform, or `unknown` when the event did not say. */
export const platformOf = (event: StoredEvent): string => event.context.platform ?? 'unknown';

export const METRICS: readonly MetricDefinition[] = [
  {
    name: 'events',
    kind: 'counter',
    description: 'every event',
    unit: 'events',
    dimensions: ['type', 'platform'],
    extract: (event) => ({ value: 1, dimensions: [event.type, platformOf(event)] }),
  },
  {
    name: 'sessions',
    kind: 'counter',
    description: 'session.started',
    unit: 'sessions',
    dimensions: ['scenarioId', 'platform'],
    extract: (event) =>
      event.type === 'session.started' ? { value: 1, dimensions: [event.attributes.scenarioId, platformOf(event)] } : undefined,
  },
  {
    name: 'sessions.completed',
    kind: 'counter',
    description: 'session.ended with completed',
    unit: 'sessions',
    dimensions: ['scenarioId', 'platform'],
    extract: (event) =>
      event.type === 'session.ended' && event.attributes.completed
        ? { value: 1, dimensions: [event.attributes.scenarioId, platformOf(event)] }
        : undefined,
  },
  {
    name: 'session.duration',
    kind: 'distribution',
    description: 'session.ended durationSec',
    unit: 's',
    dimensions: ['scenarioId', 'platform'],
    extract: (event) =>
      event.type === 'session.ended'
        ? { value: event.attributes.durationSec, dimensions: [event.attributes.scenarioId, platformOf(event)] }
        : undefined,
  },
  {
    name: 'choice.response_time',
    kind: 'distribution',
    description: 'choice.made responseTimeMs',
    unit: 'ms',
    dimensions: ['choiceType', 'scenarioId'],
    extract: (event) =>
      event.type === 'choice.made'
        ? { value: event.attributes.responseTimeMs, dimensions: [event.attributes.choiceType, event.attributes.scenarioId] }
        : undefined,
  },
  {
    name: 'choice.therapeutic_value',
    kind: 'distribution',
    description: 'choice.made therapeuticValue',
    unit: 'score from 0 to 1',
    dimensions: ['choiceType', 'scenarioId'],
    extract: (event) =>
      event.type === 'choice.made'
        ? { value: event.attributes.therapeuticValue, dimensions: [event.attributes.choiceType, event.attributes.scenarioId] }
        : undefined,
  },
  {
    name: 'interventions',
    kind: 'counter',
    description: 'intervention.delivered',
    unit: 'interventions',
    dimensions: ['interventionType', 'completion', 'urgency'],
    extract: (event) =>
      event.type === 'intervention.delivered'
        ? {
            value: 1,
            dimensions: [event.attributes.interventionType, event.attributes.completion, event.attributes.urgency],
          }
        : undefined,
  },
  {
    // Not in DESIGN.md's first catalogue: the outcome report's rated effectiveness per intervention (issue 17) needs it kept.
    name: 'intervention.effectiveness',
    kind: 'distribution',
    description: 'intervention.delivered effectivenessRating, where the user rated it',
    unit: 'rating from 1 to 5',
    dimensions: ['interventionType', 'urgency'],
    extract: (event) =>
      event.type === 'intervention.delivered' && event.attributes.effectivenessRating !== undefined
        ? { value: event.attributes.effectivenessRating, dimensions: [event.attributes.interventionType, event.attributes.urgency] }
        : undefined,
  },
  {
    name: 'mood.valence',
    kind: 'distribution',
    description: 'mood.reported valence',
    unit: 'valence from -1 to 1',
    dimensions: ['platform'],
    extract: (event) => (event.type === 'mood.reported' ? { value: event.attributes.valence, dimensions: [platformOf(event)] } : undefined),
  },
  {
    name: 'assessment.score',
    kind: 'distribution',
    description: 'assessment.completed score',
    unit: "points of the instrument's scale",
    dimensions: ['instrument'],
    extract: (event) =>
      event.type === 'assessment.completed' ? { value: event.attributes.score, dimensions: [event.attributes.instrument] } : undefined,
  },
  {
    name: 'active_users',
    kind: 'distinct',
    description: 'distinct users of every event',
    unit: 'users',
    dimensions: ['platform'],
    readsFrom: 'events',
  },
];

export const STORED_METRICS: readonly StoredMetric[] = METRICS.filter((metric): metric is StoredMetric => metric.kind !== 'distinct');

const BY_NAME = new Map(METRICS.map((metric) => [metric.name, metric]));

export function findMetric(name: string): MetricDefinition | undefined {
  return BY_NAME.get(name);
}

/** An entry of GET /v1/metrics: what a caller needs to ask for the metric. */
export interface MetricDescription {
  readonly name: string;
  readonly kind: MetricKind;
  readonly unit: string;
  readonly description: string;
  /** The dimensions `groupBy` takes. */
  readonly dimensions: readonly string[];
}

/** The catalogue as data, in catalogue order. */
export function describeMetrics(): MetricDescription[] {
  return METRICS.map(({ name, kind, unit, description, dimensions }) => ({ name, kind, unit, description, dimensions: [...dimensions] }));
}
