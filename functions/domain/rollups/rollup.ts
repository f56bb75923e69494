import { instantMs } from '../events/instant';
import type { StoredEvent } from '../events/schema';
import { STORED_METRICS, type StoredMetric } from './catalogue';
import { DistinctSketch, memberHash } from './distinct-sketch';
import { QuantileSketch } from './quantile-sketch';

/**
 * Time-bucketed rollups. Every event adds to each of its metrics' hour and day rows for EVERY
 * subset of the metric's dimensions (a cube: 2^d groupings, d <= 3), so a query over days or
 * months reads exactly its own rows and never merges sketches across groups. Minute rows are
 * kept for the finest grouping only: they are most of the rows written (a minute holds few
 * events, so nearly every one of them is new), and a minute series spans few buckets, so any
 * coarser grouping is summed from the finest rows when it is read (`rowSource`).
 *
 * The aggregator writes minute rows only (`computeRollups`); the roll-up later folds closed
 * minutes into the hour and day rows of the whole cube (`rollUpMinutes`). An hour row is
 * rewritten once per roll-up rather than once per batch, and a batch writes a third of the rows
 * it would otherwise. Events of minutes the roll-up has already passed (`rolledUpTo`) arrive
 * late: the aggregator adds those to the hour and day rows itself.
 */

export const INTERVALS = ['minute', 'hour', 'day'] as const;
export type Interval = (typeof INTERVALS)[number];
export const INTERVAL_MS: Readonly<Record<Interval, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function bucketStart(epochMs: number, interval: Interval): number {
  return Math.floor(epochMs / INTERVAL_MS[interval]) * INTERVAL_MS[interval];
}

/** A grouping names its dimensions sorted, comma-separated; '' is the total over all groups. */
export function groupingOf(dimensions: readonly string[]): string {
  return [...dimensions].sort().join(',');
}

/** Group values in the grouping's (sorted) dimension order, as JSON so any value is unambiguous. */
export function groupKeyOf(values: readonly string[]): string {
  return JSON.stringify(values);
}

export interface RollupKey {
  readonly metric: string;
  readonly interval: Interval;
  /** Bucket start, epoch milliseconds (UTC). */
  readonly bucket: number;
  readonly grouping: string;
  readonly groupKey: string;
}

/** A counter counts each event as value 1, so sum/min/max stay defined for every row. */
export interface RollupRow extends RollupKey {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** Distributions only. */
  readonly quantiles: QuantileSketch | undefined;
  readonly users: DistinctSketch;
}

export function rollupKeyId(key: RollupKey): string {
  return `${key.metric}\u0000${key.interval}\u0000${key.bucket}\u0000${key.grouping}\u0000${key.groupKey}`;
}

interface Grouping {
  readonly name: string;
  /** Positions in the metric's `dimensions`, in sorted dimension-name order. */
  readonly positions: readonly number[];
  readonly storedAtMinute: boolean;
}

function cubeOf(dimensions: readonly string[]): Grouping[] {
  const groupings: Grouping[] = [];
  for (let mask = 0; mask < 1 << dimensions.length; mask++) {
    const positions = dimensions
      .map((name, position) => ({ name, position }))
      .filter((_, position) => (mask & (1 << position)) !== 0)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(({ position }) => position);
    const storedAtMinute = positions.length === dimensions.length;
    groupings.push({ name: groupingOf(positions.map((p) => dimensions[p]!)), positions, storedAtMinute });
  }
  return groupings;
}

const CUBES = new Map<StoredMetric, Grouping[]>(STORED_METRICS.map((metric) => [metric, cubeOf(metric.dimensions)]));
const CUBES_BY_NAME = new Map([...CUBES].map(([metric, cube]) => [metric.name, cube]));
/** The same pairs as an array: every event visits each, and a Map's iterator took half again as long. */
const CUBE_LIST: readonly (readonly [StoredMetric, readonly Grouping[]])[] = [...CUBES];
const STORED_BY_NAME = new Map(STORED_METRICS.map((metric) => [metric.name, metric]));

/** The finest grouping of each stored metric: the minute rows the roll-up folds. */
export const FINEST_GROUPINGS: readonly { readonly metric: string; readonly grouping: string }[] = [...CUBES].map(([metric, cube]) => ({
  metric: metric.name,
  grouping: cube[cube.length - 1]!.name,
}));

/** Every grouping of every stored metric (each is stored at hour and day). */
export const STORED_GROUPINGS: readonly { readonly metric: string; readonly grouping: string }[] = [...CUBES].flatMap(([metric, cube]) =>
  cube.map(({ name }) => ({ metric: metric.name, grouping: name })),
);

/** Turns a stored row's group key into the key of a coarser grouping. */
export type KeyProjection = (storedKey: string) => string;

/**
 * Where the rows of a metric's grouping at an interval are stored: in that grouping itself, or
 * (a grouping coarser than the finest, at minute interval) in the finest grouping,
 * whose keys `project` maps onto the grouping's keys.
 */
export function rowSource(metric: string, interval: Interval, grouping: string): { grouping: string; project?: KeyProjection } {
  const cube = CUBES_BY_NAME.get(metric) ?? [];
  const wanted = cube.find((g) => g.name === grouping);
  if (!wanted) throw new Error(`'${grouping}' is not a grouping of a stored metric '${metric}'`);
  if (interval !== 'minute' || wanted.storedAtMinute) return { grouping };
  const finest = cube[cube.length - 1]!;
  // Positions of the wanted dimensions within the finest key (both in sorted dimension order).
  const picks = wanted.positions.map((position) => finest.positions.indexOf(position));
  const projected = new Map<string, string>();
  return {
    grouping: finest.name,
    project: (storedKey) => {
      let key = projected.get(storedKey);
      if (key === undefined) {
        const values = JSON.parse(storedKey) as string[];
        projected.set(storedKey, (key = groupKeyOf(picks.map((p) => values[p]!))));
      }
      return key;
    },
  };
}

/** One group of one grouping of a metric: the key parts every row of the group shares. */
interface GroupRef {
  readonly metric: StoredMetric;
  readonly grouping: string;
  readonly groupKey: string;
  readonly storedAtMinute: boolean;
}

/**
 * The groups a combination of dimension values lands in, one per grouping of the cube: found
 * through one map level per dimension value, so a batch builds no key string per row update.
 * Built once per combination and kept (dimension values come from small catalogues); the whole
 * index is dropped if a stream of arbitrary values ever makes it large.
 */
interface ValueNode {
  readonly next: Map<string, ValueNode>;
  refs: GroupRef[] | undefined;
}

const MAX_COMBINATIONS = 50_000;
let combinations = 0;
let valueIndex = new Map<StoredMetric, ValueNode>();
/** One GroupRef per row key (combinations share their coarser groups), by metric, grouping and group key. */
let refIndex = new Map<string, GroupRef>();

/** Called between batches only: within one, a key must keep a single GroupRef. */
function boundGroupIndex(): void {
  if (combinations <= MAX_COMBINATIONS) return;
  combinations = 0;
  valueIndex = new Map();
  refIndex = new Map();
}

function groupRefsOf(metric: StoredMetric, cube: readonly Grouping[], values: readonly string[]): GroupRef[] {
  let root = valueIndex.get(metric);
  if (!root) valueIndex.set(metric, (root = { next: new Map(), refs: undefined }));
  let node = root;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    let child = node.next.get(value);
    if (!child) node.next.set(value, (child = { next: new Map(), refs: undefined }));
    node = child;
  }
  if (node.refs) return node.refs;
  combinations++;
  node.refs = cube.map((grouping) => {
    const groupKey = groupKeyOf(grouping.positions.map((p) => values[p]!));
    const id = `${metric.name}\u0000${grouping.name}\u0000${groupKey}`;
    let ref = refIndex.get(id);
    if (!ref) refIndex.set(id, (ref = { metric, grouping: grouping.name, groupKey, storedAtMinute: grouping.storedAtMinute }));
    return ref;
  });
  return node.refs;
}

/** A row while a batch is folded: hashes (or sketches) are collected and turned into one sketch at the end. */
interface Accumulator {
  readonly ref: GroupRef;
  readonly interval: Interval;
  readonly bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  readonly quantiles: QuantileSketch | undefined;
  readonly hashes: bigint[];
  readonly sketches: DistinctSketch[];
}

/**
 * A group's rows of the batch, per interval by bucket (a batch spans few buckets; the last one is
 * kept at hand). A bucket map is made for an interval the group meets a second bucket of: a
 * batch of a backfill holds some 800 groups, most of them with one minute row and nothing else.
 */
class GroupRows {
  private readonly byInterval: (Map<number, Accumulator> | undefined)[] = INTERVALS.map(() => undefined);
  private readonly last: (Accumulator | undefined)[] = INTERVALS.map(() => undefined);

  constructor(private readonly ref: GroupRef) {}

  /** The row of `bucket` at INTERVALS[i], created (and listed in `created`) on first use. */
  row(i: number, bucket: number, created: Accumulator[]): Accumulator {
    const last = this.last[i];
    if (last !== undefined && last.bucket === bucket) return last;
    let buckets = this.byInterval[i];
    if (last !== undefined && buckets === undefined) this.byInterval[i] = buckets = new Map([[last.bucket, last]]);
    let row = buckets?.get(bucket);
    if (!row) {
      const quantiles = this.ref.metric.kind === 'distribution' ? new QuantileSketch() : undefined;
      row = { ref: this.ref, interval: INTERVALS[i]!, bucket, count: 0, sum: 0, min: Infinity, max: -Infinity, quantiles, hashes: [], sketches: [] };
      buckets?.set(bucket, row);
      created.push(row);
    }
    this.last[i] = row;
    return row;
  }
}

function rowsOf(groups: Map<GroupRef, GroupRows>, ref: GroupRef): GroupRows {
  let rows = groups.get(ref);
  if (!rows) groups.set(ref, (rows = new GroupRows(ref)));
  return rows;
}

function finished(accumulators: readonly Accumulator[]): RollupRow[] {
  return accumulators.map((row) => ({
    metric: row.ref.metric.name,
    interval: row.interval,
    bucket: row.bucket,
    grouping: row.ref.grouping,
    groupKey: row.ref.groupKey,
    count: row.count,
    sum: row.sum,
    min: row.min,
    max: row.max,
    quantiles: row.quantiles,
    users: row.sketches.length === 0 ? DistinctSketch.fromHashes(row.hashes) : DistinctSketch.union(row.sketches),
  }));
}

// INTERVALS[0] is the minute.
const MINUTE = 0;

/**
 * The rollup deltas of a batch: one row per key the batch touches. Minute rows for every event;
 * hour and day rows only for events of minutes before `rolledUpTo` (epoch ms), which the roll-up
 * has passed (see the top of this module). An event of a minute before both `rolledUpTo` and
 * `minutesKeptFrom` (epoch ms: the minute rows' retention cutoff) gets no minute row: its hour and
 * day rows hold it, and the purge would delete the minute row anyway. History weeks old (an
 * import, a backfill, two thirds of the demo's traffic) would otherwise write minute rows only
 * for the purge to delete, and PostgreSQL keeps the space of deleted rows.
 */
export function computeRollups(events: readonly StoredEvent[], rolledUpTo: number, minutesKeptFrom = -Infinity): RollupRow[] {
  boundGroupIndex();
  const groups = new Map<GroupRef, GroupRows>();
  const accumulators: Accumulator[] = [];
  const buckets = new Array<number>(INTERVALS.length);
  // A batch holds some 150 users' runs of events: a user's hash is looked up, not parsed into a bigint again (200 ns).
  const hashes = new Map<string, bigint>();
  for (const event of events) {
    const at = instantMs(event.occurredAt);
    let hash = hashes.get(event.subject);
    if (hash === undefined) hashes.set(event.subject, (hash = memberHash(event.subject)));
    for (let i = 0; i < INTERVALS.length; i++) buckets[i] = bucketStart(at, INTERVALS[i]!);
    const intervals = buckets[MINUTE]! < rolledUpTo ? INTERVALS.length : MINUTE + 1;
    const past = buckets[MINUTE]! < rolledUpTo && buckets[MINUTE]! < minutesKeptFrom;
    for (let m = 0; m < CUBE_LIST.length; m++) {
      const [metric, cube] = CUBE_LIST[m]!;
      const contribution = metric.extract(event);
      if (!contribution) continue;
      const value = contribution.value;
      const refs = groupRefsOf(metric, cube, contribution.dimensions);
      for (let g = 0; g < refs.length; g++) {
        const ref = refs[g]!;
        const first = ref.storedAtMinute && !past ? MINUTE : MINUTE + 1;
        if (first >= intervals) continue;
        const rows = rowsOf(groups, ref);
        for (let i = first; i < intervals; i++) {
          const row = rows.row(i, buckets[i]!, accumulators);
          row.count++;
          row.sum += value;
          if (value < row.min) row.min = value;
          if (value > row.max) row.max = value;
          row.quantiles?.add(value);
          row.hashes.push(hash);
        }
      }
    }
  }
  return finished(accumulators);
}

/**
 * The hour and day rows, of every grouping, that hold the given minute rows of their metrics'
 * finest groupings (`FINEST_GROUPINGS`): what the roll-up adds when it folds those minutes.
 */
export function rollUpMinutes(minuteRows: readonly RollupRow[]): RollupRow[] {
  boundGroupIndex();
  const groups = new Map<GroupRef, GroupRows>();
  const accumulators: Accumulator[] = [];
  for (const minute of minuteRows) {
    const metric = STORED_BY_NAME.get(minute.metric);
    const cube = metric && CUBES.get(metric)!;
    const finest = cube?.[cube.length - 1];
    if (!metric || !cube || minute.interval !== 'minute' || minute.grouping !== finest!.name) {
      throw new Error(`not a minute row of a finest grouping: ${minute.metric} ${minute.interval} '${minute.grouping}'`);
    }
    // The key lists values in sorted dimension-name order; the cube wants the metric's order.
    const keyValues = JSON.parse(minute.groupKey) as string[];
    const values = new Array<string>(metric.dimensions.length);
    finest!.positions.forEach((position, j) => (values[position] = keyValues[j]!));
    const refs = groupRefsOf(metric, cube, values);
    for (let g = 0; g < refs.length; g++) {
      const rows = rowsOf(groups, refs[g]!);
      for (let i = MINUTE + 1; i < INTERVALS.length; i++) {
        const row = rows.row(i, bucketStart(minute.bucket, INTERVALS[i]!), accumulators);
        row.count += minute.count;
        row.sum += minute.sum;
        if (minute.min < row.min) row.min = minute.min;
        if (minute.max > row.max) row.max = minute.max;
        if (minute.quantiles) row.quantiles?.merge(minute.quantiles);
        row.sketches.push(minute.users);
      }
    }
  }
  return finished(accumulators);
}

/** What a row holds of its events, whatever its key. */
export type RollupValues = Pick<RollupRow, 'count' | 'sum' | 'min' | 'max' | 'quantiles' | 'users'>;

