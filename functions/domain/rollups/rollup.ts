import type { StoredEvent } from '../events/schema';
import { STORED_METRICS, type StoredMetric } from './catalogue';
import { DistinctSketch, memberHash } from './distinct-sketch';
import { QuantileSketch } from './quantile-sketch';

/**
 * Time-bucketed rollups. Every event adds to each of its metrics' hour and day rows for EVERY
 * subset of the metric's dimensions (a cube: 2^d groupings, d <= 3), so a query over days or
 * months reads exactly its own rows and never merges sketches across groups. Minute rows are
 * kept for the total and the finest grouping only: they are most of the rows written (a minute
 * holds few events, so nearly every one of them is new), and a minute series spans few buckets,
 * so a grouping in between is summed from the finest rows when it is read (`rowSource`).
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
    const storedAtMinute = positions.length === 0 || positions.length === dimensions.length;
    groupings.push({ name: groupingOf(positions.map((p) => dimensions[p]!)), positions, storedAtMinute });
  }
  return groupings;
}

const CUBES = new Map<StoredMetric, Grouping[]>(STORED_METRICS.map((metric) => [metric, cubeOf(metric.dimensions)]));
const CUBES_BY_NAME = new Map([...CUBES].map(([metric, cube]) => [metric.name, cube]));

/** Turns a stored row's group key into the key of a coarser grouping. */
export type KeyProjection = (storedKey: string) => string;

/**
 * Where the rows of a metric's grouping at an interval are stored: in that grouping itself, or
 * (a grouping between the total and the finest, at minute interval) in the finest grouping,
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

/** A row while a batch is folded: hashes are collected and turned into a sketch once at the end. */
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
}

/** A group's rows of the batch, per interval by bucket (a batch spans few buckets; the last one is kept at hand). */
interface GroupRows {
  readonly byInterval: Map<number, Accumulator>[];
  readonly last: (Accumulator | undefined)[];
}

/** The rollup deltas of a batch: one row per key the batch touches. */
export function computeRollups(events: readonly StoredEvent[]): RollupRow[] {
  // Dropped between batches only: within one, a key must keep a single GroupRef.
  if (combinations > MAX_COMBINATIONS) {
    combinations = 0;
    valueIndex = new Map();
    refIndex = new Map();
  }
  const groups = new Map<GroupRef, GroupRows>();
  const accumulators: Accumulator[] = [];
  const buckets = new Array<number>(INTERVALS.length);
  for (const event of events) {
    const at = Date.parse(event.occurredAt);
    const hash = memberHash(event.subject);
    for (let i = 0; i < INTERVALS.length; i++) buckets[i] = bucketStart(at, INTERVALS[i]!);
    for (const [metric, cube] of CUBES) {
      const contribution = metric.extract(event);
      if (!contribution) continue;
      const value = contribution.value;
      const refs = groupRefsOf(metric, cube, contribution.dimensions);
      for (let g = 0; g < refs.length; g++) {
        const ref = refs[g]!;
        let rows = groups.get(ref);
        if (!rows) groups.set(ref, (rows = { byInterval: INTERVALS.map(() => new Map<number, Accumulator>()), last: INTERVALS.map(() => undefined) }));
        // INTERVALS[0] is the minute.
        for (let i = ref.storedAtMinute ? 0 : 1; i < INTERVALS.length; i++) {
          const bucket = buckets[i]!;
          let row = rows.last[i];
          if (row === undefined || row.bucket !== bucket) {
            row = rows.byInterval[i]!.get(bucket);
            if (!row) {
              const quantiles = metric.kind === 'distribution' ? new QuantileSketch() : undefined;
              row = { ref, interval: INTERVALS[i]!, bucket, count: 0, sum: 0, min: Infinity, max: -Infinity, quantiles, hashes: [] };
              rows.byInterval[i]!.set(bucket, row);
              accumulators.push(row);
            }
            rows.last[i] = row;
          }
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
    users: DistinctSketch.fromHashes(row.hashes),
  }));
}

/** What a row holds of its events, whatever its key. */
export type RollupValues = Pick<RollupRow, 'count' | 'sum' | 'min' | 'max' | 'quantiles' | 'users'>;

/** The row holding both rows' events, keyed as `a` (both must belong to the same point). */
export function mergeRollupRows<Row extends RollupValues>(a: Row, b: RollupValues): Row {
  let quantiles: QuantileSketch | undefined;
  if (a.quantiles || b.quantiles) {
    quantiles = new QuantileSketch();
    if (a.quantiles) quantiles.merge(a.quantiles);
    if (b.quantiles) quantiles.merge(b.quantiles);
  }
  return {
    ...a,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    quantiles,
    users: a.users.merge(b.users),
  };
}
