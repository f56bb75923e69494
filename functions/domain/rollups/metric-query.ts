import { releasePolicy, WITHHELD, type Partitions, type ReleaseCells, type ReleasePolicy, type Withheld } from '../privacy/release-policy';
import { boundedInstantMs, INSTANT_RANGE } from '../api/input-bounds';
import { IDENTIFIER } from '../events/schema';
import { piiIn } from '../privacy/pii';
import { findMetric, METRICS, type MetricDefinition } from './catalogue';
import { bucketStart, groupingOf, groupKeyOf, INTERVAL_MS, INTERVALS, rowSource, type Interval, type KeyProjection, type RollupRow, type RollupValues } from './rollup';
import { DistinctSketch, ESTIMATE_RELATIVE_ERROR } from './distinct-sketch';
import { QuantileSketch } from './quantile-sketch';
import { calendarBounds, isoInstantInZone, resolveTimeZone, storedPieces, type CalendarUnit } from './calendar';

/**
 * GET /v1/metrics/{metric}: validation, the read plan, and the answer of DESIGN.md "Metrics".
 * `from` and `to` are widened to whole buckets of the interval, so every point covers a whole
 * bucket, which is the cell the release policy decides on; the answer echoes the widened range.
 *
 * Weeks, months, and days of a time zone other than UTC are not stored: each such bucket is
 * summed, sketches merged, from the stored UTC rows it is made of (the UTC days wholly inside it
 * and the hours of the UTC days it cuts), so its counts, sums, users and quantiles are those of
 * its own events. A bucket is released only when every stored cell it sums is released, so it
 * shows nothing that the hour and day answers do not already show summed (PRIVACY.md).
 */

export const MAX_POINTS_PER_GROUP = 10_000;

/** The intervals a query may ask for: the stored ones, and the local calendar's weeks and months. */
export const QUERY_INTERVALS = [...INTERVALS, 'week', 'month'] as const;
export type QueryInterval = (typeof QUERY_INTERVALS)[number];

export const DEFAULT_TIME_ZONE = 'UTC';

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
  /** An IANA time zone name; UTC when absent. */
  readonly timeZone?: unknown;
  /** `dimension:value` pairs, comma-separated (the query string) or a list. */
  readonly filter?: unknown;
}

/** Per filtered dimension (in grouping order), the values a cell may hold: a value of any, in every dimension. */
export type MetricFilter = Readonly<Record<string, readonly string[]>>;

export interface MetricQuery {
  readonly metric: MetricDefinition;
  /** The metric whose rows answer the query. */
  readonly rowsMetric: string;
  readonly interval: QueryInterval;
  /** The IANA name as asked, case corrected (UTC for its aliases); buckets of a day or longer follow its calendar. */
  readonly timeZone: string;
  /** The stored rows the points are read from: the interval itself, or those local buckets are summed from. */
  readonly storedInterval: Interval;
  /** Epoch ms, aligned to the interval; `to` exclusive. */
  readonly from: number;
  readonly to: number;
  /** Local buckets summed from stored rows: bucket i is [calendar[i], calendar[i + 1]). */
  readonly calendar?: readonly number[];
  /** In the requested order, which is the key order of each answered group. */
  readonly groupBy: readonly string[];
  /**
   * The grouping the cells are read and decided at: groupBy and the filtered dimensions. Where a
   * filter adds dimensions, each answered point merges the selected cells of this grouping.
   */
  readonly grouping: string;
  readonly filter: MetricFilter;
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
  if (params.interval === undefined || params.interval === '') throw new QueryError('interval', `is required: one of ${QUERY_INTERVALS.join(', ')}`);
  if (!QUERY_INTERVALS.includes(params.interval as QueryInterval)) {
    throw new QueryError('interval', `must be one of ${QUERY_INTERVALS.join(', ')}`);
  }
  const interval = params.interval as QueryInterval;
  const timeZone = parseTimeZone(params.timeZone);
  const requestedFrom = instant('from', params.from);
  const requestedTo = instant('to', params.to);
  if (requestedFrom >= requestedTo) throw new QueryError('to', 'must be after from');
  const groupBy = parseGroupBy(metric, params.groupBy);
  const filter = parseFilter(metric, params.filter);
  const grouping = groupingOf([...new Set([...groupBy, ...Object.keys(filter)])]);
  const common = { metric, rowsMetric: 'readsFrom' in metric ? metric.readsFrom : metric.name, interval, timeZone, groupBy, grouping, filter };
  if (interval === 'week' || interval === 'month' || (interval === 'day' && timeZone !== DEFAULT_TIME_ZONE)) {
    return { ...common, ...localCalendar(interval, timeZone, requestedFrom, requestedTo) };
  }
  const step = INTERVAL_MS[interval];
  const from = Math.floor(requestedFrom / step) * step;
  const to = Math.ceil(requestedTo / step) * step;
  const points = (to - from) / step;
  if (points > MAX_POINTS_PER_GROUP) {
    throw new QueryError('interval', `the range holds ${points} ${interval} buckets, more than ${MAX_POINTS_PER_GROUP}; use a coarser interval or a shorter range`);
  }
  // An hour of a zone whose offset is not whole hours is no stored hour (Asia/Kolkata's 10:00 is 04:30Z).
  if (interval === 'hour' && timeZone !== DEFAULT_TIME_ZONE) requireWholeHourOffsets(calendarBounds(from, to, 'day', timeZone), timeZone);
  return { ...common, storedInterval: interval, from, to };
}

/**
 * Local buckets summed from hours need the hours: older ones are purged (RETENTION_HOUR_ROLLUP_DAYS),
 * and a bucket summed without them would be short, so such a range is refused.
 */
export function requireKeptHours(query: MetricQuery, hoursKeptFrom: number): void {
  if (!query.calendar || query.storedInterval !== 'hour' || query.from >= hoursKeptFrom) return;
  throw new QueryError(
    'from',
    `local ${query.interval}s in ${query.timeZone} are summed from hour rows, kept since ${isoInstantInZone(Math.ceil(hoursKeptFrom / INTERVAL_MS.hour) * INTERVAL_MS.hour, query.timeZone)}; start the range after that, or ask in UTC, whose days are kept`,
  );
}

function parseTimeZone(raw: unknown): string {
  if (raw === undefined || raw === '') return DEFAULT_TIME_ZONE;
  const zone = typeof raw === 'string' ? resolveTimeZone(raw) : undefined;
  if (!zone) throw new QueryError('timeZone', `unknown time zone '${typeof raw === 'string' ? raw : typeof raw}': an IANA name like Europe/London or America/New_York`);
  return zone;
}

/** Local buckets are sums of stored hours: each bound must be one. */
function requireWholeHourOffsets(bounds: readonly number[], timeZone: string): void {
  const cut = bounds.find((at) => at % INTERVAL_MS.hour !== 0);
  if (cut === undefined) return;
  throw new QueryError(
    'timeZone',
    `${timeZone} is not a whole number of hours from UTC at ${isoInstantInZone(cut, timeZone)}; its local buckets would cut stored hours, so they are not answered exactly: ask in UTC or a zone whole hours from it`,
  );
}

/**
 * The local days, weeks or months of the zone covering the range, summed from stored day rows
 * where every bound is a UTC midnight (UTC itself), otherwise from hour rows, whose count bounds
 * the range as the points of a stored interval are bounded.
 */
function localCalendar(unit: CalendarUnit, timeZone: string, requestedFrom: number, requestedTo: number): Pick<MetricQuery, 'storedInterval' | 'from' | 'to' | 'calendar'> {
  // Checked before the periods are listed, so a century of days costs nothing to refuse.
  const days = Math.ceil((requestedTo - requestedFrom) / INTERVAL_MS.day);
  if (days > MAX_POINTS_PER_GROUP) throw new QueryError('to', `the range spans ${days} days, more than ${MAX_POINTS_PER_GROUP}; use a shorter range`);
  const calendar = calendarBounds(requestedFrom, requestedTo, unit, timeZone);
  requireWholeHourOffsets(calendar, timeZone);
  const storedInterval = calendar.every((at) => at % INTERVAL_MS.day === 0) ? 'day' : 'hour';
  const from = calendar[0]!;
  const to = calendar.at(-1)!;
  const hours = (to - from) / INTERVAL_MS.hour;
  if (storedInterval === 'hour' && hours > MAX_POINTS_PER_GROUP) {
    throw new QueryError('to', `local ${unit}s in ${timeZone} are summed from hours, and the range holds ${hours}, more than ${MAX_POINTS_PER_GROUP} (about 13 months); use a shorter range, or UTC`);
  }
  return { storedInterval, from, to, calendar };
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

const FILTER_TERM = /^([^:]*):(.*)$/s;

/**
 * `platform:ios,platform:android,scenarioId:forest-path`: a cell is selected when its value of
 * every named dimension is one of those named for it. Every dimension value is an event's
 * identifier or enum, so a value that is no identifier cannot match and is refused; so is one
 * that looks like personal data, which ingest refuses, and which the audit trail, keeping each
 * query for years, must never hold.
 */
function parseFilter(metric: MetricDefinition, raw: unknown): MetricFilter {
  if (raw === undefined || raw === '') return {};
  const terms = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(terms) || !terms.every((term): term is string => typeof term === 'string')) {
    throw new QueryError('filter', 'must be a comma-separated list of dimension:value, like platform:ios,scenarioId:forest-path');
  }
  const values = new Map<string, Set<string>>();
  for (const term of terms) {
    const [, rawDimension, value] = FILTER_TERM.exec(term) ?? [];
    const dimension = rawDimension?.trim();
    if (!dimension || !value) throw new QueryError('filter', `'${term}' is not dimension:value, like platform:ios (several values of one dimension: platform:ios,platform:android)`);
    if (!metric.dimensions.includes(dimension)) {
      throw new QueryError('filter', `unknown dimension '${dimension}' for metric ${metric.name}; allowed: ${metric.dimensions.join(', ')}`);
    }
    if (value.length > IDENTIFIER.maxLength || !IDENTIFIER.pattern.test(value)) {
      throw new QueryError('filter', `the value of ${dimension} ${IDENTIFIER.message}, at most ${IDENTIFIER.maxLength} characters`);
    }
    const pii = piiIn(value);
    if (pii) throw new QueryError('filter', `the value of ${dimension} looks like personal data (${pii}); no dimension value is, and queries are audited`);
    let set = values.get(dimension);
    if (!set) values.set(dimension, (set = new Set()));
    set.add(value);
  }
  return Object.fromEntries([...values.keys()].sort().map((dimension) => [dimension, [...values.get(dimension)!].sort()]));
}

/**
 * The release policy of metric answers. An estimated count of users (above the sketch's exact
 * range, so far above any k) enters its bounds widened by four standard errors of the sketch,
 * about 3 %.
 */
export function metricReleasePolicy(k: number): ReleasePolicy {
  return releasePolicy({ k, approximateMargin: 4 * ESTIMATE_RELATIVE_ERROR });
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
  /** Its rows are summed into the query's local buckets, so they are read with their sketches. */
  readonly merged?: true;
  /**
   * Where set, only these spans of `rows` are read: the UTC days the local buckets cut, whose
   * hours are the only ones they sum (a month cuts two). Each holds whole days, so every cell
   * read has all its siblings and its parents for the release policy.
   */
  readonly spans?: readonly Span[];
}

/** Epoch ms, `to` exclusive. */
export interface Span {
  readonly from: number;
  readonly to: number;
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
  const { rowsMetric: metric, storedInterval: interval } = query;
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
        // A local bucket sums the query's grouping at every stored interval it is made of; a
        // point of a filter of several values of a dimension not grouped by sums the selected
        // cells of its own interval.
        const merged = grouping === query.grouping && ((query.calendar !== undefined && !localDaysAreStored(query)) || (filterMergesCells(query) && at === interval));
        const values = (at === interval || merged) && grouping === query.grouping && query.metric.kind === 'distribution';
        return {
          interval: at,
          grouping,
          rows: { metric, interval: at, grouping: source.grouping, from, to, values },
          ...(source.project && { project: source.project }),
          ...(merged && { merged }),
          ...(merged && at === 'hour' && query.calendar && { spans: cutDays(query.calendar) }),
        };
      });
    }),
  };
}

/** Whether an answer uses a stored row, by its group key and bucket. */
export type UsedRows = (groupKey: string, bucket: number) => boolean;

/**
 * The rows of a merged level (`planFrom`'s) an answer uses, where it uses fewer than all: the
 * cells its filter selects, summed into its points, and every cell the table decides (the level's
 * own rows). A filter of two platforms of three leaves a third of a month's hour sketches unread;
 * and of the days the store `decided`, the cells of a point one of whose cells is withheld are not
 * read either, as the point is withheld whatever they hold (half the cells by type and platform
 * hour by hour, at k = 10 on 1,000,000 events).
 * Undefined where every row is used, or where rows are read at a finer grouping than the level's.
 */
export function usedMergedRows(query: MetricQuery, level: LevelPlan, decided?: DecidedHours): UsedRows | undefined {
  if (!level.merged || level.project || Object.keys(query.filter).length === 0) return undefined;
  const select = cellSelector(query);
  const { from, to } = level.rows;
  const withheld = decided && withheldByDecisions(query, decided, select);
  return (groupKey, bucket) => {
    if (bucket >= from && bucket < to) return true;
    const point = select(groupKey);
    return point !== undefined && !withheld?.get(point)?.has(bucket);
  };
}

/**
 * The hourly points of a filter (no local calendar: a point is one hour of the selected cells)
 * that a decided cell withholds, by group key then bucket (PRIVACY.md rule 7: a point is withheld
 * when any cell it sums is); with `first`, the first such point alone. Undefined where points are
 * not hours.
 */
function withheldByDecisions(query: MetricQuery, decided: DecidedHours, select: CellSelector, first = false): Map<string, Set<number>> | undefined {
  if (query.calendar || query.interval !== 'hour') return undefined;
  const withheld = new Map<string, Set<number>>();
  const { rows, released } = decided;
  for (let i = 0; i < rows.length && !(first && withheld.size > 0); i++) {
    const row = rows[i]!;
    if (released[i] === 1 || row.bucket < query.from || row.bucket >= query.to) continue;
    const point = select(row.groupKey);
    if (point === undefined) continue;
    let buckets = withheld.get(point);
    if (!buckets) withheld.set(point, (buckets = new Set()));
    buckets.add(row.bucket);
  }
  return withheld;
}

/**
 * Whether a point sums several cells of the read grouping: the filter names several values of a
 * dimension it is not grouped by. With one value of each, a point is one cell, read as it is
 * stored, without the sketches a merge needs.
 */
function filterMergesCells(query: MetricQuery): boolean {
  return Object.entries(query.filter).some(([dimension, values]) => values.length > 1 && !query.groupBy.includes(dimension));
}

/**
 * Whether each local day is one stored UTC day (a zone at UTC's offset over the whole range, as
 * London in winter): its bounds are UTC midnights, and no day is 48 hours long. Such a day is
 * answered as the stored cell, as a UTC day is.
 */
function localDaysAreStored(query: MetricQuery): boolean {
  return query.interval === 'day' && query.storedInterval === 'day';
}

/** The UTC days that local bounds fall inside, as spans of consecutive days. */
function cutDays(calendar: readonly number[]): Span[] {
  const spans: { from: number; to: number }[] = [];
  for (const bound of calendar) {
    if (bound % INTERVAL_MS.day === 0) continue;
    const day = bucketStart(bound, 'day');
    const last = spans.at(-1);
    if (last && last.to >= day) last.to = Math.max(last.to, day + INTERVAL_MS.day);
    else spans.push({ from: day, to: day + INTERVAL_MS.day });
  }
  return spans;
}

/**
 * An hourly answer's points as the roll-up decided them, day by day. Every partition an hour
 * cell is set against lies in its UTC day (its day's row, and its hour without one of its
 * dimensions), and so does every partition of those, so the policy's decisions of a whole day
 * depend on that day's cells alone, and on no coarser grouping's answer: the roll-up decides each
 * day it packs (`dayDecisionPlan`), and a query reads those decisions for the days before
 * `until` and decides only the days from there on.
 */
export interface DecidedHours {
  /** A UTC midnight: the selection's days before it are decided. */
  readonly until: number;
  /** The selection's hour rows before `until`, in bucket and key order. */
  readonly rows: readonly SeriesRow[];
  /** Per row, 1 where the policy releases it. */
  readonly released: Uint8Array;
}

/**
 * The selection of a query's own cells whose decisions a store may keep: its hour cells of the
 * read grouping, whether each is a point or is summed into one (a local bucket, a filter's values).
 */
export function decidableSelection(query: MetricQuery, plan: ReadPlan): SeriesSelection | undefined {
  if (query.storedInterval !== 'hour') return undefined;
  return plan.levels.at(-1)!.rows;
}

/**
 * The plan's levels from `until` on (a UTC midnight): each still spans whole days, or nothing.
 * Day levels stay whole where points sum day cells (local weeks and months): those cells'
 * decisions are not kept, and they depend on the day levels alone.
 */
export function planFrom(plan: ReadPlan, until: number): ReadPlan {
  const daysSummed = plan.levels.some((level) => level.merged && level.interval === 'day');
  return {
    levels: plan.levels.map((level) =>
      daysSummed && level.interval === 'day' ? level : { ...level, rows: { ...level.rows, from: Math.min(level.rows.to, Math.max(level.rows.from, until)) } },
    ),
  };
}

/**
 * What deciding one UTC day of a stored metric reads: the cells of every grouping of `grouping`
 * (its finest) at hour and day, as an hourly answer of that grouping reads them; an answer of
 * any of those groupings decides the day's cells the same, as the policy's decisions only flow
 * from coarser levels to finer ones, in the same order.
 */
export function dayDecisionPlan(metric: string, grouping: string, day: number): ReadPlan {
  const definition = findMetric(metric);
  if (!definition) throw new Error(`'${metric}' is not a metric`);
  const plan = planMetricQuery({
    metric: definition,
    rowsMetric: metric,
    interval: 'hour',
    timeZone: DEFAULT_TIME_ZONE,
    storedInterval: 'hour',
    from: day,
    to: day + INTERVAL_MS.day,
    groupBy: [],
    grouping,
    filter: {},
  });
  // The policy reads users only.
  return { levels: plan.levels.map((level) => ({ ...level, rows: { ...level.rows, values: false } })) };
}

/** Per level of the plan, per row of it in the order given, 1 where the policy releases it. */
export function releasedRows(plan: ReadPlan, rows: MetricRows, policy: ReleasePolicy): Uint8Array[] {
  const table = tableOf(plan, rows);
  const released = policy.releasable(table.release, table.partitions);
  return rows.map((levelRows, l) => Uint8Array.from(levelRows, (row) => released[table.cellOf(l, row.groupKey, row.bucket)!]!));
}

/** A stored row with its sketches, to be summed with the other rows of its projected group. */
export type SeriesSketchRow = Pick<RollupRow, 'bucket' | 'groupKey'> & RollupValues;

/**
 * One row per bucket and group, sketches merged: the rows' own groups, or those `project` maps
 * their keys onto. Each point's rows are merged at once: merging pairwise copied the growing
 * union once per row, most of the time of a local day summed from 24 hours.
 */
export function sumSketchRows(rows: readonly SeriesSketchRow[], project?: KeyProjection): SeriesSketchRow[] {
  const points = new Map<string, SeriesSketchRow[]>();
  for (const row of rows) {
    const groupKey = project ? project(row.groupKey) : row.groupKey;
    const id = `${row.bucket}\u0000${groupKey}`;
    const point = points.get(id);
    if (point) point.push(row);
    else points.set(id, [groupKey === row.groupKey ? row : { bucket: row.bucket, groupKey, count: row.count, sum: row.sum, min: row.min, max: row.max, quantiles: row.quantiles, users: row.users }]);
  }
  return [...points.values()].map((parts) => (parts.length === 1 ? parts[0]! : summedRow(parts)));
}

// Built as one object literal: spreading rows into rows was a fifth of a merged answer's time.
function summedRow(parts: readonly SeriesSketchRow[]): SeriesSketchRow {
  let [count, sum, min, max] = [0, 0, Infinity, -Infinity];
  let quantiles: QuantileSketch | undefined;
  for (const part of parts) {
    count += part.count;
    sum += part.sum;
    min = Math.min(min, part.min);
    max = Math.max(max, part.max);
    if (part.quantiles) (quantiles ??= new QuantileSketch()).merge(part.quantiles);
  }
  return { bucket: parts[0]!.bucket, groupKey: parts[0]!.groupKey, count, sum, min, max, quantiles, users: DistinctSketch.union(parts.map((part) => part.users)) };
}

/**
 * The point of cells summed, as `seriesRowOf(summedRow(parts))` makes it, without the union of
 * their users (only its count is shown) or a copy of a single cell's quantiles.
 */
function pointRowOf(bucket: number, groupKey: string, parts: readonly SeriesSketchRow[]): SeriesRow {
  let { count, sum, quantiles } = parts[0]!;
  if (parts.length > 1) {
    [count, sum, quantiles] = [0, 0, undefined];
    for (const part of parts) {
      count += part.count;
      sum += part.sum;
      if (part.quantiles) (quantiles ??= new QuantileSketch()).merge(part.quantiles);
    }
  }
  const users = DistinctSketch.unionEstimate(parts.map((part) => part.users));
  const shown = quantiles?.pointQuantiles();
  return { bucket, groupKey, count, sum, p50: shown?.p50, p95: shown?.p95, users: users.count, usersApprox: users.approximate };
}

/** A summed row as a point needs it: its sketches read. */
export function seriesRowOf(row: SeriesSketchRow): SeriesRow {
  const estimate = row.users.estimate();
  const shown = row.quantiles?.pointQuantiles();
  return { bucket: row.bucket, groupKey: row.groupKey, count: row.count, sum: row.sum, min: row.min, max: row.max, p50: shown?.p50, p95: shown?.p95, users: estimate.count, usersApprox: estimate.approximate };
}

/** One point per bucket and group: the rows' own groups, or those `project` maps their keys onto. */
export function projectSeriesRows(rows: readonly SeriesSketchRow[], project?: KeyProjection): SeriesRow[] {
  return sumSketchRows(rows, project).map(seriesRowOf);
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
  interval: QueryInterval;
  timeZone: string;
  from: string;
  to: string;
  groupBy: string[];
  /** As applied: per dimension, its values in order; only where the query asked for a filter. */
  filter?: Record<string, string[]>;
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

/**
 * How an answer writes instants: UTC as ...Z; in another zone with the offset then in force, so
 * a local bucket reads as its local date (2026-10-25T00:00:00+01:00) and is still the instant.
 */
function instantWriter(timeZone: string): (epochMs: number) => string {
  if (timeZone === DEFAULT_TIME_ZONE) return isoInstant;
  // Points of every group share their buckets: each is written once per answer.
  const written = new Map<number, string>();
  return (epochMs) => {
    let text = written.get(epochMs);
    if (text === undefined) written.set(epochMs, (text = isoInstantInZone(epochMs, timeZone)));
    return text;
  };
}

/** The rows of each level a query read, in the plan's order. */
export type MetricRows = readonly (readonly SeriesRow[])[];

/** Per level of the plan, the rows with their sketches where the level is `merged`. */
export type MergedRows = readonly (readonly SeriesSketchRow[] | undefined)[];

interface Table {
  /** Every level's rows, each level's in bucket and key order, levels in the plan's order. */
  readonly cells: readonly SeriesRow[];
  /** The cells' users, as the release policy reads them. */
  readonly release: ReleaseCells;
  readonly partitions: Partitions;
  /** Where the query's own level starts in `cells`. */
  readonly own: number;
  /** The index in `cells` of a level's cell of that group and bucket, if it has events. */
  cellOf(level: number, groupKey: string, bucket: number): number | undefined;
}

/** The order of a level's cells (and so of the release policy's ties). */
export const byBucketAndKey = (a: Pick<SeriesRow, 'bucket' | 'groupKey'>, b: Pick<SeriesRow, 'bucket' | 'groupKey'>) => a.bucket - b.bucket || (a.groupKey < b.groupKey ? -1 : a.groupKey > b.groupKey ? 1 : 0);

/** A level's rows in bucket and key order: as the store read them, when they came so. */
function sortedRows(rows: readonly SeriesRow[]): readonly SeriesRow[] {
  for (let i = 1; i < rows.length; i++) if (byBucketAndKey(rows[i - 1]!, rows[i]!) > 0) return [...rows].sort(byBucketAndKey);
  return rows;
}

/**
 * One level's cells: its groups numbered in the order met, and each cell's index by group and
 * bucket number in an open-addressing hash table of typed arrays (a Map of numbers cost more
 * than the rest of the table; a dense grid of groups by buckets would be mostly empty for a
 * sparse week of minutes).
 */
class LevelCells {
  readonly groups = new Map<string, number>();
  readonly buckets: number;
  /** Per slot, its cell's group * buckets + bucket number, or -1 where the slot is free. */
  private keys = new Float64Array(0);
  private cells = new Int32Array(0);
  private shift = 0;

  constructor(
    readonly from: number,
    to: number,
    readonly step: number,
  ) {
    this.buckets = Math.max(1, (to - from) / step);
  }

  /** The level's cells, by their groups and bucket numbers in cell order, from `first` on. */
  index(groupOfCell: readonly number[], bucketOfCell: readonly number[], first: number): void {
    // A power of two at least twice the cells: probes stay short.
    let bits = 1;
    while (1 << bits < 2 * (groupOfCell.length - first)) bits++;
    this.shift = 32 - bits;
    this.keys = new Float64Array(1 << bits).fill(-1);
    this.cells = new Int32Array(1 << bits);
    const mask = (1 << bits) - 1;
    for (let cell = first; cell < groupOfCell.length; cell++) {
      const key = groupOfCell[cell]! * this.buckets + bucketOfCell[cell]!;
      let slot = this.slotOf(key);
      while (this.keys[slot] !== -1) slot = (slot + 1) & mask;
      this.keys[slot] = key;
      this.cells[slot] = cell;
    }
  }

  /** The cell of a group and bucket number, or -1. */
  cellAt(group: number, bucket: number): number {
    const key = group * this.buckets + bucket;
    const mask = this.keys.length - 1;
    for (let slot = this.slotOf(key); this.keys[slot] !== -1; slot = (slot + 1) & mask) if (this.keys[slot] === key) return this.cells[slot]!;
    return -1;
  }

  /** Fibonacci hashing: the product's top bits, which every bit of the key stirs. */
  private slotOf(key: number): number {
    return this.shift === 32 ? 0 : Math.imul(key | 0, 0x9e3779b1) >>> this.shift;
  }
}

/**
 * The cells of every level and the partitions between them: a cell's parent along time is the
 * same group's row at the next coarser interval, and along each of its grouping's dimensions the
 * row of the grouping without it in the same bucket. Cells and partitions come in one order for
 * the same data, so the policy withholds the same cells in every answer: partitions in the order
 * their first child is met (levels in the plan's order, cells in order, and per cell its period
 * before its dimensions), children in cell order.
 */
function tableOf(plan: ReadPlan, rows: MetricRows): Table {
  const cells: SeriesRow[] = [];
  const levels: LevelCells[] = [];
  const groupOfCell: number[] = [];
  const bucketOfCell: number[] = [];
  plan.levels.forEach((level, l) => {
    const at = new LevelCells(level.rows.from, level.rows.to, INTERVAL_MS[level.interval]);
    levels.push(at);
    const first = cells.length;
    for (const row of sortedRows(rows[l]!)) {
      let group = at.groups.get(row.groupKey);
      if (group === undefined) at.groups.set(row.groupKey, (group = at.groups.size));
      groupOfCell.push(group);
      bucketOfCell.push((row.bucket - at.from) / at.step);
      cells.push(row);
    }
    at.index(groupOfCell, bucketOfCell, first);
  });
  const levelOf = new Map(plan.levels.map((level, l) => [`${level.interval}\u0000${level.grouping}`, l]));
  const users = new Float64Array(cells.length);
  const usersApprox = new Uint8Array(cells.length);
  cells.forEach((cell, i) => {
    users[i] = cell.users;
    usersApprox[i] = cell.usersApprox ? 1 : 0;
  });
  // (partition, child) pairs as met, then counted into each partition's slice of `children`.
  const parents: number[] = [];
  const pairPartition: number[] = [];
  const pairChild: number[] = [];
  // A parent's partition for the child level at hand: one from an earlier child level is stale.
  const partitionOfParent = new Int32Array(cells.length).fill(-1);
  let start = 0;
  plan.levels.forEach((level, childLevel) => {
    const firstPartition = parents.length;
    const childOf = (parent: number, child: number) => {
      if (parent < 0) return;
      let partition = partitionOfParent[parent]!;
      if (partition < firstPartition) {
        partition = parents.length;
        parents.push(parent);
        partitionOfParent[parent] = partition;
      }
      pairPartition.push(partition);
      pairChild.push(child);
    };
    const own = levels[childLevel]!;
    const coarser = COARSER[level.interval];
    const period = coarser === undefined ? undefined : levels[levelOf.get(`${coarser}\u0000${level.grouping}`) ?? -1];
    const dimensions = level.grouping === '' ? [] : level.grouping.split(',');
    // Per dimension, the level of the grouping without it.
    const marginals = dimensions.map((_, d) => levels[levelOf.get(`${level.interval}\u0000${groupingOf(dimensions.filter((__, j) => j !== d))}`)!]!);
    // Per group of the level, its group in the coarser period's level and in each marginal's (-1: none).
    const periodGroup: number[] = [];
    const marginalGroups: number[][] = [];
    for (const [groupKey, group] of own.groups) {
      periodGroup[group] = period?.groups.get(groupKey) ?? -1;
      const values = JSON.parse(groupKey) as string[];
      marginalGroups[group] = marginals.map((marginal, d) => marginal.groups.get(groupKeyOf(values.filter((__, j) => j !== d))) ?? -1);
    }
    for (let cell = start; cell < start + rows[childLevel]!.length; cell++) {
      const group = groupOfCell[cell]!;
      if (period) {
        const parentGroup = periodGroup[group]!;
        if (parentGroup >= 0) childOf(period.cellAt(parentGroup, Math.floor((cells[cell]!.bucket - period.from) / period.step)), cell);
      }
      const groups = marginalGroups[group]!;
      for (let d = 0; d < marginals.length; d++) {
        if (groups[d]! >= 0) childOf(marginals[d]!.cellAt(groups[d]!, bucketOfCell[cell]!), cell);
      }
    }
    start += rows[childLevel]!.length;
  });
  const starts = new Int32Array(parents.length + 1);
  for (const partition of pairPartition) starts[partition + 1]!++;
  for (let p = 0; p < parents.length; p++) starts[p + 1]! += starts[p]!;
  const children = new Int32Array(pairChild.length);
  const filled = starts.slice(0, parents.length);
  pairPartition.forEach((partition, pair) => (children[filled[partition]!++] = pairChild[pair]!));
  return {
    cells,
    release: { users, usersApprox },
    partitions: { parents: Int32Array.from(parents), starts, children },
    own: start - rows.at(-1)!.length,
    cellOf(l, groupKey, bucket) {
      const level = levels[l]!;
      const group = level.groups.get(groupKey);
      const cell = group === undefined ? -1 : level.cellAt(group, (bucket - level.from) / level.step);
      return cell < 0 ? undefined : cell;
    },
  };
}

/**
 * The answer: the points of the query's range that the release policy lets out. Withheld points
 * are left out like empty buckets, and `suppressed` says only that something was withheld, never
 * which group (naming it would say that a small group exists) nor how much. A query of local
 * buckets, or of a filter that adds dimensions, passes `merged`: the sketch rows of its `merged`
 * levels. An hourly query passes the own cells the store had decided as `decided`, and a plan
 * from their `until` on (`planFrom`).
 *
 * The policy decides the cells of the read grouping, filtered values or not, as any answer of that
 * grouping does; a filter only selects among them (PRIVACY.md rule 7).
 */
export function buildMetricAnswer(query: MetricQuery, plan: ReadPlan, rows: MetricRows, policy: ReleasePolicy, merged?: MergedRows, decided?: DecidedHours): MetricAnswer {
  const table = tableOf(plan, rows);
  const released = policy.releasable(table.release, table.partitions);
  const write = instantWriter(query.timeZone);
  const select = cellSelector(query);
  const { pointsByGroup, withheld } = plan.levels.some((level) => level.merged)
    ? mergedPoints(query, plan, table, released, merged ?? [], write, select, decided)
    : storedPoints(query, table, released, write, select, decided);
  const sortedDimensions = query.groupBy.length === 0 ? [] : groupingOf(query.groupBy).split(',');
  const groupOf = (groupKey: string): Group => {
    const values = JSON.parse(groupKey) as string[];
    return Object.fromEntries(query.groupBy.map((dimension) => [dimension, values[sortedDimensions.indexOf(dimension)]!]));
  };
  return {
    metric: query.metric.name,
    interval: query.interval,
    timeZone: query.timeZone,
    from: write(query.from),
    to: write(query.to),
    groupBy: [...query.groupBy],
    ...(Object.keys(query.filter).length > 0 && { filter: Object.fromEntries(Object.entries(query.filter).map(([dimension, values]) => [dimension, [...values]])) }),
    series: [...pointsByGroup.keys()].sort().map((groupKey) => ({ group: groupOf(groupKey), points: pointsByGroup.get(groupKey)! })),
    suppressed: withheld ? [WITHHELD] : [],
  };
}

interface Points {
  /** Each group's points in bucket order, by group key. */
  readonly pointsByGroup: Map<string, MetricPoint[]>;
  readonly withheld: boolean;
}

function pushPoint(pointsByGroup: Map<string, MetricPoint[]>, groupKey: string, point: MetricPoint): void {
  const list = pointsByGroup.get(groupKey);
  if (list) list.push(point);
  else pointsByGroup.set(groupKey, [point]);
}

/**
 * For a cell of the read grouping, the group of the answer it counts in, or undefined where the
 * filter leaves it out: its key over groupBy alone (its own key where the filter adds nothing).
 */
type CellSelector = (groupKey: string) => string | undefined;

function cellSelector(query: MetricQuery): CellSelector {
  const dimensions = query.grouping === '' ? [] : query.grouping.split(',');
  const tests = Object.entries(query.filter).map(([dimension, values]) => ({ at: dimensions.indexOf(dimension), allowed: new Set(values) }));
  const kept = query.groupBy.length === 0 ? [] : groupingOf(query.groupBy).split(',').map((dimension) => dimensions.indexOf(dimension));
  if (tests.length === 0) return (groupKey) => groupKey;
  // The same few keys recur in every bucket: each is parsed once (null: not selected, so that a
  // key is looked up once).
  const decided = new Map<string, string | null>();
  return (groupKey) => {
    const known = decided.get(groupKey);
    if (known !== undefined) return known ?? undefined;
    const values = JSON.parse(groupKey) as string[];
    const selected = tests.every(({ at, allowed }) => allowed.has(values[at]!));
    const answered = !selected ? undefined : kept.length === dimensions.length ? groupKey : groupKeyOf(kept.map((at) => values[at]!));
    decided.set(groupKey, answered ?? null);
    return answered;
  };
}

/**
 * The points of the query's own level: its selected cells within the range, one per point, as
 * the policy decided them (the decided days' first, which come before the table's).
 */
function storedPoints(query: MetricQuery, { cells, own }: Table, released: Uint8Array, write: (epochMs: number) => string, select: CellSelector, decided?: DecidedHours): Points {
  const pointsByGroup = new Map<string, MetricPoint[]>();
  let withheld = false;
  const add = (row: SeriesRow, isReleased: boolean) => {
    const groupKey = row.bucket < query.from || row.bucket >= query.to ? undefined : select(row.groupKey);
    if (groupKey === undefined) return;
    if (!isReleased) withheld = true;
    else pushPoint(pointsByGroup, groupKey, pointOf(query.metric, row, write(row.bucket)));
  };
  if (decided) for (let i = 0; i < decided.rows.length; i++) add(decided.rows[i]!, decided.released[i] === 1);
  for (let i = own; i < cells.length; i++) add(cells[i]!, released[i] === 1);
  return { pointsByGroup, withheld };
}

/**
 * The start of the answer's bucket a stored cell is summed into, or undefined outside the range:
 * a local bucket holds the UTC days wholly inside it and the hours of the UTC days it cuts.
 */
type BucketOfCell = (interval: Interval, bucket: number) => number | undefined;

function localBucketOf(calendar: readonly number[]): BucketOfCell {
  // By interval, then by the stored bucket's start: probed once per cell read, so by number, not
  // by a string built per probe.
  const bucketOfPiece = { day: new Map<number, number>(), hour: new Map<number, number>() };
  for (let i = 0; i + 1 < calendar.length; i++) {
    const { days, hours } = storedPieces(calendar[i]!, calendar[i + 1]!);
    for (const day of days) bucketOfPiece.day.set(day, calendar[i]!);
    for (const hour of hours) bucketOfPiece.hour.set(hour, calendar[i]!);
  }
  return (interval, bucket) => (interval === 'minute' ? undefined : bucketOfPiece[interval].get(bucket));
}

/**
 * Points that merge several stored cells: local buckets (UTC days and hours), and the selected
 * cells of a filter's values within a bucket. A point is withheld when any cell it sums is: what
 * it shows is then a sum of figures other answers release, its users and quantiles those of a
 * union of released cells, each of k people or more.
 */
function mergedPoints(
  query: MetricQuery,
  plan: ReadPlan,
  table: Table,
  released: Uint8Array,
  merged: MergedRows,
  write: (epochMs: number) => string,
  select: CellSelector,
  decided?: DecidedHours,
): Points {
  const bucketOf: BucketOfCell = query.calendar ? localBucketOf(query.calendar) : (_, bucket) => (bucket >= query.from && bucket < query.to ? bucket : undefined);
  // The own hour cells of the decided days are decided by the store, the rest by the table; a
  // cell neither knows is withheld.
  const decidedAt = decided && decidedRelease(decided);
  const isReleased = (l: number, level: LevelPlan, row: SeriesSketchRow) =>
    (decidedAt && level.interval === 'hour' && row.bucket < decided.until ? decidedAt(row.groupKey, row.bucket) : released[table.cellOf(l, row.groupKey, row.bucket) ?? -1]) === 1;
  // Per answered point, the cells it sums in the order read (so its sum adds in one order); a
  // withheld point's cells are not summed at all.
  type Point = { readonly bucket: number; readonly groupKey: string; readonly parts: SeriesSketchRow[]; withheld: boolean };
  // By group, then by bucket: a key built per cell read cost more than the lookups.
  const pointsOf = new Map<string, Map<number, Point>>();
  const points: Point[] = [];
  let withheld = false;
  plan.levels.forEach((level, l) => {
    if (!level.merged) return;
    for (const row of merged[l] ?? []) {
      const bucket = bucketOf(level.interval, row.bucket);
      const groupKey = bucket === undefined ? undefined : select(row.groupKey);
      if (bucket === undefined || groupKey === undefined) continue;
      let ofGroup = pointsOf.get(groupKey);
      if (!ofGroup) pointsOf.set(groupKey, (ofGroup = new Map<number, Point>()));
      let point = ofGroup.get(bucket);
      if (!point) {
        ofGroup.set(bucket, (point = { bucket, groupKey, parts: [], withheld: false }));
        points.push(point);
      }
      point.parts.push(row);
      if (!isReleased(l, level, row)) point.withheld = withheld = true;
    }
  });
  // Points a decided cell withholds may not have been read at all (usedMergedRows).
  if (decided && !withheld && withheldByDecisions(query, decided, select, true)?.size) withheld = true;
  const pointsByGroup = new Map<string, MetricPoint[]>();
  const shown = points.filter((point) => !point.withheld).sort(byBucketAndKey);
  for (const { bucket, groupKey, parts } of shown) pushPoint(pointsByGroup, groupKey, pointOf(query.metric, pointRowOf(bucket, groupKey, parts), write(bucket)));
  return { pointsByGroup, withheld };
}

/** The store's decision of a decided hour cell, by group key and bucket (undefined: no such cell). */
function decidedRelease(decided: DecidedHours): (groupKey: string, bucket: number) => number | undefined {
  const from = decided.rows[0]?.bucket ?? decided.until;
  const level = new LevelCells(from, Math.max(from + INTERVAL_MS.hour, decided.until), INTERVAL_MS.hour);
  const groupOfCell: number[] = [];
  const bucketOfCell: number[] = [];
  for (const row of decided.rows) {
    let group = level.groups.get(row.groupKey);
    if (group === undefined) level.groups.set(row.groupKey, (group = level.groups.size));
    groupOfCell.push(group);
    bucketOfCell.push((row.bucket - from) / INTERVAL_MS.hour);
  }
  level.index(groupOfCell, bucketOfCell, 0);
  return (groupKey, bucket) => {
    const group = level.groups.get(groupKey);
    const cell = group === undefined || bucket < from ? -1 : level.cellAt(group, (bucket - from) / INTERVAL_MS.hour);
    return cell < 0 ? undefined : decided.released[cell];
  };
}

// Each kind of point is built by one object literal, so all points of an answer share one shape
// (spreading a point into a wider one was the most expensive step of a 30-day answer). No `min`
// or `max`: each is one event's value, the extreme one; p95 never answers the largest value of a
// point (its rank is below the last), so one outlier among k people is not released.
function pointOf(metric: MetricDefinition, row: SeriesRow, t: string): MetricPoint {
  const count = metric.kind === 'distinct' ? row.users : row.count;
  if (metric.kind !== 'distribution') return row.usersApprox ? { t, count, users: row.users, usersApprox: true } : { t, count, users: row.users };
  const { sum, p50, p95 } = row;
  const mean = sum! / row.count;
  return row.usersApprox ? { t, count, users: row.users, usersApprox: true, sum, mean, p50, p95 } : { t, count, users: row.users, sum, mean, p50, p95 };
}
