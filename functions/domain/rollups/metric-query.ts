import type { ReleaseGate, Suppression } from '../privacy/release-gate';
import { boundedInstantMs, INSTANT_RANGE } from '../api/input-bounds';
import { findMetric, METRICS, type MetricDefinition } from './catalogue';
import type { DistinctSketch } from './distinct-sketch';
import { groupingOf, INTERVAL_MS, INTERVALS, mergeRollupRows, rowSource, type Interval, type KeyProjection, type RollupRow, type RollupValues } from './rollup';

/**
 * GET /v1/metrics/{metric}: validation, the read plan, and the answer of DESIGN.md "Metrics".
 * `from` and `to` are widened to whole buckets of the interval, so every point covers a whole
 * bucket and the k-anonymity count covers exactly the points' span; the answer echoes the
 * widened range.
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
  const at = typeof raw === 'string' && ISO_INSTANT.test(raw) ? boundedInstantMs(raw) : NaN;
  if (Number.isNaN(at)) throw new QueryError(parameter, `must be an ISO-8601 instant with an offset, like 2026-11-20T10:00:00Z, from ${INSTANT_RANGE.from} and before ${INSTANT_RANGE.to}`);
  return at;
}

export function validateMetricQuery(params: MetricQueryParams): MetricQuery {
  const metric = typeof params.metric === 'string' ? findMetric(params.metric) : undefined;
  if (!metric) {
    throw new QueryError('metric', `unknown metric '${String(params.metric)}'; known: ${METRICS.map((m) => m.name).join(', ')}`);
  }
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

/** A contiguous run of buckets of one interval: bucket starts in [from, to). */
export interface Tile {
  readonly interval: Interval;
  readonly from: number;
  readonly to: number;
}

/**
 * Covers the minute-aligned [from, to) with the fewest, coarsest buckets: whole days, then
 * whole hours at the edges, then minutes. Distinct users over 30 days then merge ~30 day
 * sketches instead of 720 hour ones. Day and hour buckets are unions of whole minute buckets,
 * so the tiles together hold exactly the events of the range.
 */
export function tileRange(from: number, to: number, levels: readonly Interval[] = ['day', 'hour', 'minute']): Tile[] {
  const [interval, ...finer] = levels;
  if (from >= to || !interval) return [];
  const step = INTERVAL_MS[interval];
  const start = Math.ceil(from / step) * step;
  const end = Math.floor(to / step) * step;
  if (start >= end) return tileRange(from, to, finer);
  return [...tileRange(from, start, finer), { interval, from: start, to: end }, ...tileRange(end, to, finer)];
}

/** The stored rows of one grouping at one interval, buckets in [from, to). */
export interface SeriesSelection {
  readonly metric: string;
  readonly interval: Interval;
  readonly grouping: string;
  readonly from: number;
  readonly to: number;
  /**
   * Whether the points show values (sum, min, max, quantiles): distributions only. A counter's
   * point is its count and users, and a 30-day answer is thousands of rows, so a counter's rows
   * are read without the columns it does not show.
   */
  readonly values: boolean;
}

/** The stored rows of one grouping within the tiles. */
export interface TileSelection {
  readonly metric: string;
  readonly grouping: string;
  readonly tiles: readonly Tile[];
}

/**
 * What a query reads. `project` is set where the query's grouping is not stored at that
 * interval: the rows then come from a finer stored grouping and `project` maps their keys onto
 * the query's groups.
 */
export interface ReadPlan {
  /** The rows of the points. */
  readonly series: { readonly rows: SeriesSelection; readonly project?: KeyProjection };
  /** The rows whose users, per group, give each group's distinct users over the range. */
  readonly users: readonly { readonly rows: TileSelection; readonly project?: KeyProjection }[];
}

export function planMetricQuery(query: MetricQuery): ReadPlan {
  const { rowsMetric: metric, grouping, interval, from, to } = query;
  const values = query.metric.kind === 'distribution';
  const series = rowSource(metric, interval, grouping);
  const tiles = tileRange(from, to);
  // One source (and one memo of projected keys) when the series is itself at minute interval.
  const minutes = interval === 'minute' ? series : rowSource(metric, 'minute', grouping);
  const users = minutes.project
    ? [
        { rows: { metric, grouping, tiles: tiles.filter((t) => t.interval !== 'minute') } },
        { rows: { metric, grouping: minutes.grouping, tiles: tiles.filter((t) => t.interval === 'minute') }, project: minutes.project },
      ].filter((part) => part.rows.tiles.length > 0)
    : [{ rows: { metric, grouping, tiles } }];
  return { series: { rows: { metric, interval, grouping: series.grouping, from, to, values }, ...(series.project && { project: series.project }) }, users };
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

export interface GroupUsersRow {
  readonly groupKey: string;
  readonly users: DistinctSketch;
}

/** Per group, the most distinct users any one tile of the range holds. */
export type GroupTileMaxima = ReadonlyMap<string, number>;

/**
 * The groups whose range-wide distinct users a tile maximum cannot settle: a group with k users
 * in any one tile has at least k over the range, so only groups below k in every tile need their
 * sketches merged, and those sketches are small (fewer than k members each).
 */
export function groupsNeedingUsers(seriesRows: readonly SeriesRow[], maxima: GroupTileMaxima, gate: ReleaseGate): string[] {
  const groups = new Set<string>();
  for (const row of seriesRows) if (!gate.settles(maxima.get(row.groupKey) ?? 0)) groups.add(row.groupKey);
  return [...groups];
}

export interface MetricPoint {
  t: string;
  count: number;
  users: number;
  usersApprox?: true;
  sum?: number;
  mean?: number;
  min?: number;
  max?: number;
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
  suppressed: Suppression<Group>[];
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

/**
 * `usersRows` need only cover the groups `groupsNeedingUsers` named; every other group has k
 * users in one tile of the range already.
 */
export function buildMetricAnswer(
  query: MetricQuery,
  seriesRows: readonly SeriesRow[],
  maxima: GroupTileMaxima,
  usersRows: readonly GroupUsersRow[],
  gate: ReleaseGate,
): MetricAnswer {
  const usersByGroup = new Map<string, DistinctSketch>();
  for (const row of usersRows) {
    const seen = usersByGroup.get(row.groupKey);
    usersByGroup.set(row.groupKey, seen ? seen.merge(row.users) : row.users);
  }
  const rowsByGroup = new Map<string, SeriesRow[]>();
  for (const row of seriesRows) {
    const rows = rowsByGroup.get(row.groupKey) ?? [];
    rows.push(row);
    rowsByGroup.set(row.groupKey, rows);
  }
  const sortedDimensions = query.grouping === '' ? [] : query.grouping.split(',');
  const groupOf = (groupKey: string): Group => {
    const values = JSON.parse(groupKey) as string[];
    return Object.fromEntries(query.groupBy.map((dimension) => [dimension, values[sortedDimensions.indexOf(dimension)]!]));
  };
  const answer: MetricAnswer = {
    metric: query.metric.name,
    interval: query.interval,
    from: isoInstant(query.from),
    to: isoInstant(query.to),
    groupBy: [...query.groupBy],
    series: [],
    suppressed: [],
  };
  for (const groupKey of [...rowsByGroup.keys()].sort()) {
    if (!gate.admits(maxima.get(groupKey) ?? 0, () => usersByGroup.get(groupKey)?.estimate().count ?? 0)) {
      answer.suppressed.push(gate.suppression(groupOf(groupKey)));
      continue;
    }
    const rows = rowsByGroup.get(groupKey)!.sort((a, b) => a.bucket - b.bucket);
    answer.series.push({ group: groupOf(groupKey), points: rows.map((row) => pointOf(query.metric, row)) });
  }
  return answer;
}

// Each kind of point is built by one object literal, so all points of an answer share one shape
// (spreading a point into a wider one was the most expensive step of a 30-day answer).
function pointOf(metric: MetricDefinition, row: SeriesRow): MetricPoint {
  const t = isoInstant(row.bucket);
  const count = metric.kind === 'distinct' ? row.users : row.count;
  if (metric.kind !== 'distribution') return row.usersApprox ? { t, count, users: row.users, usersApprox: true } : { t, count, users: row.users };
  const { sum, min, max, p50, p95 } = row;
  const mean = sum! / row.count;
  return row.usersApprox
    ? { t, count, users: row.users, usersApprox: true, sum, mean, min, max, p50, p95 }
    : { t, count, users: row.users, sum, mean, min, max, p50, p95 };
}
