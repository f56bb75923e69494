import { WITHHELD, type Partition, type ReleasePolicy, type Withheld } from '../privacy/release-policy';
import { boundedInstantMs, INSTANT_RANGE } from '../api/input-bounds';
import { findMetric, METRICS, type MetricDefinition } from './catalogue';
import { bucketStart, groupingOf, groupKeyOf, INTERVAL_MS, INTERVALS, mergeRollupRows, rowSource, type Interval, type KeyProjection, type RollupRow, type RollupValues } from './rollup';

/**
 * GET /v1/metrics/{metric}: validation, the read plan, and the answer of DESIGN.md "Metrics".
 * `from` and `to` are widened to whole buckets of the interval, so every point covers a whole
 * bucket, which is the cell the release policy decides on; the answer echoes the widened range.
 */

export const MAX_POINTS_PER_GROUP = 10_000;

export class QueryError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export interface MetricQueryParams {
  readonly metric?: unknown;
  readonly from?: unknown;
  readonly to?: unknown;
  readonly interval?: unknown;
  /** A comma-separated string (the query string) or a list. */
  readonly groupBy?: unknown;
}

export interface MetricQuery {
  readonly metric: MetricDefinition;
  /** The metric whose rows answer the query. */
  readonly rowsMetric: string;
  readonly interval: Interval;
  /** Epoch ms, aligned to the interval; `to` exclusive. */
  readonly from: number;
  readonly to: number;
  /** In the requested order, which is the key order of each answered group. */
  readonly groupBy: readonly string[];
  readonly grouping: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(parameter: 'from' | 'to', raw: unknown): number {
  if (raw === undefined || raw === '') throw new QueryError(parameter, `is required: an ISO-8601 instant with an offset, like 2026-11-20T10:00:00Z`);
  const at = typeof raw === 'string' && ISO_INSTANT.test(raw) ? boundedInstantMs(raw) : NaN;
  if (Number.isNaN(at)) throw new QueryError(parameter, `must be an ISO-8601 instant with an offset, like 2026-11-20T10:00:00Z, from ${INSTANT_RANGE.from} and before ${INSTANT_RANGE.to}`);
  return at;
}

export function validateMetricQuery(params: MetricQueryParams): MetricQuery {
  const metric = typeof params.metric === 'string' ? findMetric(params.metric) : undefined;
  if (!metric) {
    throw new QueryError('metric', `unknown metric '${String(params.metric)}'; known: ${METRICS.map((m) => m.name).join(', ')}`);
  }
  if (params.interval === undefined || params.interval === '') throw new QueryError('interval', `is required: one of ${INTERVALS.join(', ')}`);
  if (!INTERVALS.includes(params.interval as Interval)) {
    throw new QueryError('interval', `must be one of ${INTERVALS.join(', ')}`);
  }
  const interval = params.interval as Interval;
  const requestedFrom = instant('from', params.from);
  const requestedTo = instant('to', params.to);
  if (requestedFrom >= requestedTo) throw new QueryError('to', 'must be after from');
  const step = INTERVAL_MS[interval];
  const from = Math.floor(requestedFrom / step) * step;
  const to = Math.ceil(requestedTo / step) * step;
  const points = (to - from) / step;
  if (points > MAX_POINTS_PER_GROUP) {
    throw new QueryError('interval', `the range holds ${points} ${interval} buckets, more than ${MAX_POINTS_PER_GROUP}; use a coarser interval or a shorter range`);
  }
  const groupBy = parseGroupBy(metric, params.groupBy);
  return { metric, rowsMetric: 'readsFrom' in metric ? metric.readsFrom : metric.name, interval, from, to, groupBy, grouping: groupingOf(groupBy) };
}

function parseGroupBy(metric: MetricDefinition, raw: unknown): string[] {
  if (raw === undefined || raw === '') return [];
  const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
  if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string')) {
    throw new QueryError('groupBy', 'must be a comma-separated list of dimensions');
  }
  for (const dimension of list) {
    if (!metric.dimensions.includes(dimension)) {
      throw new QueryError('groupBy', `unknown dimension '${dimension}' for metric ${metric.name}; allowed: ${metric.dimensions.join(', ')}`);
    }
  }
  if (new Set(list).size !== list.length) throw new QueryError('groupBy', 'names a dimension twice');
  return list;
}

/**
 * The next coarser interval: its buckets are unions of whole buckets of this one, so a period's
 * row is partitioned by the points within it (the release policy's time axis).
 */
const COARSER: Readonly<Record<Interval, Interval | undefined>> = { minute: 'hour', hour: 'day', day: undefined };

/** The stored rows of one grouping at one interval, buckets in [from, to). */
export interface SeriesSelection {
  readonly metric: string;
  readonly interval: Interval;
  readonly grouping: string;
  readonly from: number;
  readonly to: number;
  /**
   * Whether the points show values (sum, quantiles): distributions only. A counter's point is its
   * count and users, and a 30-day answer is thousands of rows, so a counter's rows are read
   * without the columns it does not show; so are the rows the release policy reads for users.
   */
  readonly values: boolean;
}

/**
 * A series to read. `project` is set where the grouping is not stored at that interval: the
 * rows then come from a finer stored grouping and `project` maps their keys onto the grouping's.
 */
export interface SeriesPlan {
  readonly rows: SeriesSelection;
  readonly project?: KeyProjection;
}

/** One level of the lattice of cells a query's points sit in: an interval and a grouping. */
export interface LevelPlan extends SeriesPlan {
  readonly interval: Interval;
  readonly grouping: string;
}

/**
 * What a query reads: every level the release policy sets its points against, coarsest first,
 * the query's own last. Those are the coarser intervals (a day's row is the sum of its hours)
 * and the groupings with fewer dimensions (a bucket's total is the sum of its groups), crossed.
 * Policy decisions only ever flow from coarser levels to finer ones, so an answer decides each
 * point as every other answer that holds it does. Each level spans whole periods of the next
 * coarser interval, because a point's siblings in its period decide it, wherever the query's
 * range happens to cut.
 */
export interface ReadPlan {
  readonly levels: readonly LevelPlan[];
}

export function planMetricQuery(query: MetricQuery): ReadPlan {
  const { rowsMetric: metric, interval } = query;
  const intervals = INTERVALS.slice(INTERVALS.indexOf(interval)).reverse();
  const dimensions = query.grouping === '' ? [] : query.grouping.split(',');
  const groupings = Array.from({ length: 1 << dimensions.length }, (_, mask) => dimensions.filter((__, i) => (mask & (1 << i)) !== 0))
    .sort((a, b) => a.length - b.length || groupingOf(a).localeCompare(groupingOf(b)))
    .map(groupingOf);
  return {
    levels: intervals.flatMap((at) => {
      const span = INTERVAL_MS[COARSER[at] ?? at];
      const from = Math.floor(query.from / span) * span;
      const to = Math.ceil(query.to / span) * span;
      return groupings.map((grouping): LevelPlan => {
        const source = rowSource(metric, at, grouping);
        const values = at === interval && grouping === query.grouping && query.metric.kind === 'distribution';
        return { interval: at, grouping, rows: { metric, interval: at, grouping: source.grouping, from, to, values }, ...(source.project && { project: source.project }) };
      });
    }),
  };
}

/** A stored row with its sketches, to be summed with the other rows of its projected group. */
export type SeriesSketchRow = Pick<RollupRow, 'bucket' | 'groupKey'> & RollupValues;

/** One point per bucket and group: the rows' own groups, or those `project` maps their keys onto. */
export function projectSeriesRows(rows: readonly SeriesSketchRow[], project?: KeyProjection): SeriesRow[] {
  const points = new Map<string, SeriesSketchRow>();
  for (const row of rows) {
    const groupKey = project ? project(row.groupKey) : row.groupKey;
    const id = `${row.bucket}\u0000${groupKey}`;
    const point = points.get(id);
    points.set(id, point ? mergeRollupRows(point, row) : { ...row, groupKey });
  }
  return [...points.values()].map(({ quantiles, users, ...point }) => {
    const estimate = users.estimate();
    return { ...point, ...quantiles?.pointQuantiles(), users: estimate.count, usersApprox: estimate.approximate };
  });
}

/** A stored row as a point needs it. */
export interface SeriesRow extends Pick<RollupRow, 'bucket' | 'groupKey' | 'count'> {
  /** Where the selection asked for `values`. */
  readonly sum?: number;
  readonly min?: number;
  readonly max?: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly users: number;
  readonly usersApprox: boolean;
}

export interface MetricPoint {
  t: string;
  count: number;
  users: number;
  usersApprox?: true;
  sum?: number;
  mean?: number;
  p50?: number;
  p95?: number;
}

export type Group = Record<string, string>;

export interface MetricAnswer {
  metric: string;
  interval: Interval;
  from: string;
  to: string;
  groupBy: string[];
  series: { group: Group; points: MetricPoint[] }[];
  suppressed: Withheld[];
}

// A 30-day hourly answer renders the same 720 instants once per group: format each once.
const renderedInstants = new Map<number, string>();
function isoInstant(epochMs: number): string {
  let rendered = renderedInstants.get(epochMs);
  if (rendered === undefined) {
    if (renderedInstants.size > 100_000) renderedInstants.clear();
    renderedInstants.set(epochMs, (rendered = new Date(epochMs).toISOString().replace('.000Z', 'Z')));
  }
  return rendered;
}

/** The rows of each level a query read, in the plan's order. */
export type MetricRows = readonly (readonly SeriesRow[])[];

interface Table {
  /** Every level's rows, each level's in bucket and key order, levels in the plan's order. */
  readonly cells: readonly SeriesRow[];
  readonly partitions: readonly Partition[];
  /** Where the query's own level starts in `cells`. */
  readonly own: number;
}

const byBucketAndKey = (a: SeriesRow, b: SeriesRow) => a.bucket - b.bucket || (a.groupKey < b.groupKey ? -1 : a.groupKey > b.groupKey ? 1 : 0);

/**
 * The cells of every level and the partitions between them: a cell's parent along time is the
 * same group's row at the next coarser interval, and along each of its grouping's dimensions the
 * row of the grouping without it in the same bucket. Cells and partitions come in one order for
 * the same data, so the policy withholds the same cells in every answer.
 */
function tableOf(plan: ReadPlan, rows: MetricRows): Table {
  const cells: SeriesRow[] = [];
  // Per level, each cell's index by group key, then bucket: a group's map is found once per key
  // and probed by number, where a string built per cell and probe (bucket and key) was most of a
  // 30-day answer's time.
  const levels = new Map<string, Map<string, Map<number, number>>>();
  const levelOf = (interval: Interval, grouping: string) => `${interval}\u0000${grouping}`;
  plan.levels.forEach((level, i) => {
    const index = new Map<string, Map<number, number>>();
    levels.set(levelOf(level.interval, level.grouping), index);
    for (const row of [...rows[i]!].sort(byBucketAndKey)) {
      let group = index.get(row.groupKey);
      if (!group) index.set(row.groupKey, (group = new Map<number, number>()));
      group.set(row.bucket, cells.length);
      cells.push(row);
    }
  });
  // A parent's partitions, one per level of children (its finer buckets, its groups by another
  // dimension), in the order they are first met; found per child level by the parent's index.
  const partitions: { parent: number; children: number[] }[] = [];
  const byParent = plan.levels.map((): ({ parent: number; children: number[] } | undefined)[] => []);
  const childOf = (parent: number | undefined, childLevel: number, child: number) => {
    if (parent === undefined) return;
    const partition = byParent[childLevel]![parent];
    if (partition) partition.children.push(child);
    else partitions.push((byParent[childLevel]![parent] = { parent, children: [child] }));
  };
  let start = 0;
  plan.levels.forEach((level, childLevel) => {
    const coarser = COARSER[level.interval];
    const periods = coarser && levels.get(levelOf(coarser, level.grouping));
    const dimensions = level.grouping === '' ? [] : level.grouping.split(',');
    // Per dimension, the level of the grouping without it.
    const marginals = dimensions.map((_, d) => ({ index: levels.get(levelOf(level.interval, groupingOf(dimensions.filter((__, j) => j !== d))))!, d }));
    // Per group key of the level, its group's cells in the coarser period and in each marginal.
    const parentsOf = new Map<string, { period: Map<number, number> | undefined; marginals: (Map<number, number> | undefined)[] }>();
    for (let cell = start; cell < start + rows[childLevel]!.length; cell++) {
      const { bucket, groupKey } = cells[cell]!;
      let parents = parentsOf.get(groupKey);
      if (!parents) {
        const values = JSON.parse(groupKey) as string[];
        parents = {
          period: periods?.get(groupKey),
          marginals: marginals.map(({ index, d }) => index.get(groupKeyOf(values.filter((__, j) => j !== d)))),
        };
        parentsOf.set(groupKey, parents);
      }
      if (coarser) childOf(parents.period?.get(bucketStart(bucket, coarser)), childLevel, cell);
      for (const marginal of parents.marginals) childOf(marginal?.get(bucket), childLevel, cell);
    }
    start += rows[childLevel]!.length;
  });
  return { cells, partitions, own: start - rows.at(-1)!.length };
}

/**
 * The answer: the points of the query's range that the release policy lets out. Withheld points
 * are left out like empty buckets, and `suppressed` says only that something was withheld, never
 * which group (naming it would say that a small group exists) nor how much.
 */
export function buildMetricAnswer(query: MetricQuery, plan: ReadPlan, rows: MetricRows, policy: ReleasePolicy): MetricAnswer {
  const { cells, partitions, own } = tableOf(plan, rows);
  const released = policy.releasable(cells, partitions);
  const rowsByGroup = new Map<string, SeriesRow[]>();
  let withheld = false;
  for (let i = own; i < cells.length; i++) {
    const row = cells[i]!;
    if (row.bucket < query.from || row.bucket >= query.to) continue;
    if (!released[i]) {
      withheld = true;
      continue;
    }
    const list = rowsByGroup.get(row.groupKey);
    if (list) list.push(row);
    else rowsByGroup.set(row.groupKey, [row]);
  }
  const sortedDimensions = query.grouping === '' ? [] : query.grouping.split(',');
  const groupOf = (groupKey: string): Group => {
    const values = JSON.parse(groupKey) as string[];
    return Object.fromEntries(query.groupBy.map((dimension) => [dimension, values[sortedDimensions.indexOf(dimension)]!]));
  };
  return {
    metric: query.metric.name,
    interval: query.interval,
    from: isoInstant(query.from),
    to: isoInstant(query.to),
    groupBy: [...query.groupBy],
    series: [...rowsByGroup.keys()].sort().map((groupKey) => ({ group: groupOf(groupKey), points: rowsByGroup.get(groupKey)!.map((row) => pointOf(query.metric, row)) })),
    suppressed: withheld ? [WITHHELD] : [],
  };
}

// Each kind of point is built by one object literal, so all points of an answer share one shape
// (spreading a point into a wider one was the most expensive step of a 30-day answer). No `min`
// or `max`: each is one event's value, the extreme one; p95 never answers the largest value of a
// point (its rank is below the last), so one outlier among k people is not released.
function pointOf(metric: MetricDefinition, row: SeriesRow): MetricPoint {
  const t = isoInstant(row.bucket);
  const count = metric.kind === 'distinct' ? row.users : row.count;
  if (metric.kind !== 'distribution') return row.usersApprox ? { t, count, users: row.users, usersApprox: true } : { t, count, users: row.users };
  const { sum, p50, p95 } = row;
  const mean = sum! / row.count;
  return row.usersApprox ? { t, count, users: row.users, usersApprox: true, sum, mean, p50, p95 } : { t, count, users: row.users, sum, mean, p50, p95 };
}
