import type { StoredEvent } from '../../domain/events/schema';
import { DistinctSketch } from '../../domain/rollups/distinct-sketch';
import type { GroupUsersRow, ReadPlan, SeriesRow } from '../../domain/rollups/metric-query';
import { QuantileSketch } from '../../domain/rollups/quantile-sketch';
import { computeRollups, rollupKeyId, type RollupRow } from '../../domain/rollups/rollup';
import type { RollupStore } from '../../ports/rollups';
import type { SqlDatabase, SqlExecutor } from './database';

/**
 * Sketches are merged in memory, so two aggregators writing the same row at once would lose one
 * side's users (each writes its own merge of what it read). Every concurrent batch hits the same
 * current buckets, so finer locks would not buy parallelism: every applying transaction first
 * increments the single rollup_writer row, whose row lock serialises the short read-merge-write
 * (released by commit or rollback, never leaked) and whose value numbers the write.
 *
 * Each store keeps the rows it last wrote or read (an LRU of CACHE_ROWS rows): a batch touches
 * ~1,500 rows, mostly the same hour and day rows as the batch before, whose users sketches run to
 * 8 KiB each, so reading them back every batch was most of the time. A cached row is trusted
 * when it carries the version the database holds, which is checked under the lock:
 * - while every write since the row was last checked was this store's own (the sequence moved by
 *   exactly one per transaction of ours), no other writer can have changed it: no read at all;
 * - otherwise (another Lambda instance wrote in between, or the row is not cached) the batch's
 *   keys are sent with the cached versions and only rows whose version differs come back whole.
 */
export const CACHE_ROWS = 100_000;

const NEXT_WRITE = 'UPDATE rollup_writer SET seq = seq + 1 RETURNING seq';

// Rows of the batch's keys whose version is not the one cached (NULL: not cached); a cached key
// whose row is gone comes back with NULLs.
const READ_CHANGED = `
  SELECT k.i::int4 AS i, r.version, r.count, r.sum, r.min, r.max, r.qsketch, r.users, r.users_count, r.users_approx
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::int8[])
    WITH ORDINALITY AS k(metric, interval, grouping, bucket_ms, group_key, version, i)
  LEFT JOIN rollups r ON r.metric = k.metric AND r.interval = k.interval AND r.grouping = k.grouping
    AND r.bucket = to_timestamp(k.bucket_ms / 1000) AND r.group_key = k.group_key
  WHERE r.version IS DISTINCT FROM k.version`;

// All sketches travel as ONE bytea parameter (sent in binary by pg), each row naming its slice:
// no hex encoding and array-literal escaping per sketch. A users sketch the batch did not change
// has length 0 and keeps the stored value: most hour and day rows already hold the batch's users,
// and rewriting those sketches would be most of the bytes written. (An empty value rather than
// NULL, which would fail the NOT NULL check before the conflict is seen.)
const UPSERT = `
  INSERT INTO rollups (metric, interval, grouping, bucket, group_key, count, sum, min, max, qsketch, users, users_count, users_approx, version)
  SELECT metric, interval, grouping, to_timestamp(bucket_ms / 1000), group_key, count, sum, min, max,
         CASE WHEN q_length > 0 THEN substring($1::bytea FROM q_offset + 1 FOR q_length) END,
         substring($1::bytea FROM u_offset + 1 FOR u_length), users_count, users_approx, $17::int8
  FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::int8[], $8::float8[], $9::float8[], $10::float8[],
              $11::int4[], $12::int4[], $13::int4[], $14::int4[], $15::int4[], $16::bool[])
    AS t(metric, interval, grouping, bucket_ms, group_key, count, sum, min, max,
         q_offset, q_length, u_offset, u_length, users_count, users_approx)
  ON CONFLICT (metric, interval, grouping, bucket, group_key) DO UPDATE SET
    count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max, qsketch = EXCLUDED.qsketch,
    users = CASE WHEN octet_length(EXCLUDED.users) = 0 THEN rollups.users ELSE EXCLUDED.users END,
    users_count = EXCLUDED.users_count, users_approx = EXCLUDED.users_approx, version = EXCLUDED.version`;

/** A row as stored, with the write that stored it and the last of our writes that saw it current. */
interface CachedRow {
  version: number;
  checkedAt: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  quantiles: QuantileSketch | undefined;
  users: DistinctSketch;
  usersCount: number;
  usersApprox: boolean;
}

interface ChangedRow {
  i: number;
  version: number | null;
  count: number;
  sum: number;
  min: number;
  max: number;
  qsketch: Uint8Array | null;
  users: Uint8Array;
  users_count: number;
  users_approx: boolean;
}

/** What a committed fold leaves in the cache. */
interface Folded {
  ids: string[];
  rows: CachedRow[];
}

/**
 * Array parameters as PostgreSQL array literals, built here: pg's own conversion prepares and
 * escapes every element in turn, which was a tenth of the client's time per batch. Key texts come
 * from small sets (metric, grouping and group-key values), so their quoted forms are memoised.
 */
const quoted = new Map<string, string>();
function textArray(values: readonly string[]): string {
  if (quoted.size > 100_000) quoted.clear();
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    let element = quoted.get(value);
    if (element === undefined) quoted.set(value, (element = `"${value.replace(/[\\"]/g, '\\$&')}"`));
    out += i === 0 ? element : `,${element}`;
  }
  return `${out}}`;
}

/** Finite numbers print in the shortest form that reads back as the same double. */
function numberArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** Concatenates byte strings, answering each one's offset and length (0 for undefined). */
function pack(parts: readonly (Uint8Array | undefined)[]): { blob: Buffer; offsets: number[]; lengths: number[] } {
  const offsets: number[] = [];
  const lengths: number[] = [];
  let total = 0;
  for (const part of parts) {
    offsets.push(total);
    lengths.push(part?.length ?? 0);
    total += part?.length ?? 0;
  }
  const blob = Buffer.allocUnsafe(total);
  parts.forEach((part, i) => part && blob.set(part, offsets[i]));
  return { blob, offsets, lengths };
}

export class SqlRollupStore implements RollupStore {
  /** Insertion order is recency order: a row used by a batch is moved to the end. */
  private readonly cache = new Map<string, CachedRow>();
  /** The sequence number of this store's last committed write. */
  private lastSeq: number | undefined;
  /** The first write of the current run of consecutive writes of ours. */
  private runStart = 0;
  /** Applications of one store take turns (they would wait for each other's lock anyway). */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: { cacheRows?: number } = {},
  ) {}

  applyEvents(events: readonly StoredEvent[]): Promise<{ applied: number; duplicates: number }> {
    if (events.length === 0) return Promise.resolve({ applied: 0, duplicates: 0 });
    const result = this.turn.then(() => this.apply(events));
    this.turn = result.catch(() => undefined);
    return result;
  }

  private async apply(events: readonly StoredEvent[]): Promise<{ applied: number; duplicates: number }> {
    const firstById = new Map<string, StoredEvent>();
    // uuid comes back lower-case, whatever case the client sent.
    for (const event of events) {
      const id = event.eventId.toLowerCase();
      if (!firstById.has(id)) firstById.set(id, event);
    }
    try {
      const { seq, applied, folded } = await this.db.transaction(async (tx) => {
        const { seq } = (await tx.query<{ seq: number }>(NEXT_WRITE)).rows[0]!;
        if (this.lastSeq !== seq - 1) this.runStart = seq;
        const inserted = await tx.query<{ event_id: string }>(
          `INSERT INTO rollup_processed_events (event_id) SELECT unnest($1::uuid[])
           ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
          [[...firstById.keys()]],
        );
        const fresh = inserted.rows.map((row) => firstById.get(row.event_id)!);
        const folded = fresh.length > 0 ? await this.fold(tx, seq, computeRollups(fresh)) : undefined;
        return { seq, applied: fresh.length, folded };
      });
      this.lastSeq = seq;
      if (folded) this.remember(folded);
      return { applied, duplicates: events.length - applied };
    } catch (error) {
      // Cached rows may have been merged into in place, and whether the commit happened is unknown.
      this.cache.clear();
      this.lastSeq = undefined;
      throw error;
    }
  }

  private async fold(tx: SqlExecutor, seq: number, deltas: RollupRow[]): Promise<Folded> {
    const ids = deltas.map(rollupKeyId);
    const bases = new Array<CachedRow | undefined>(deltas.length);
    const check: number[] = [];
    for (let i = 0; i < deltas.length; i++) {
      const cached = this.cache.get(ids[i]!);
      if (cached && cached.checkedAt >= this.runStart) bases[i] = cached;
      else check.push(i);
    }
    if (check.length > 0) {
      const changed = await tx.query<ChangedRow>(READ_CHANGED, [
        textArray(check.map((i) => deltas[i]!.metric)),
        textArray(check.map((i) => deltas[i]!.interval)),
        textArray(check.map((i) => deltas[i]!.grouping)),
        numberArray(check.map((i) => deltas[i]!.bucket)),
        textArray(check.map((i) => deltas[i]!.groupKey)),
        `{${check.map((i) => this.cache.get(ids[i]!)?.version ?? 'NULL').join(',')}}`,
      ]);
      // Unchanged cached rows are current; changed ones are replaced by what the database holds.
      for (const i of check) bases[i] = this.cache.get(ids[i]!);
      for (const row of changed.rows) {
        const i = check[row.i - 1]!;
        bases[i] =
          row.version === null
            ? undefined
            : {
                version: row.version,
                checkedAt: seq,
                count: row.count,
                sum: row.sum,
                min: row.min,
                max: row.max,
                quantiles: row.qsketch ? QuantileSketch.deserialize(row.qsketch) : undefined,
                users: DistinctSketch.deserialize(row.users),
                usersCount: row.users_count,
                usersApprox: row.users_approx,
              };
      }
    }

    // Merged in place: the store's turn and the cache reset on failure keep a half-applied merge
    // from ever being read.
    const rows = new Array<CachedRow>(deltas.length);
    const newUsers = new Array<Uint8Array | undefined>(deltas.length);
    for (let i = 0; i < deltas.length; i++) {
      const delta = deltas[i]!;
      const base = bases[i];
      let row: CachedRow;
      if (!base) {
        const estimate = delta.users.estimate();
        row = {
          version: seq,
          checkedAt: seq,
          count: delta.count,
          sum: delta.sum,
          min: delta.min,
          max: delta.max,
          quantiles: delta.quantiles,
          users: delta.users,
          usersCount: estimate.count,
          usersApprox: estimate.approximate,
        };
        newUsers[i] = delta.users.serialize();
      } else {
        row = base;
        row.version = seq;
        row.checkedAt = seq;
        row.count += delta.count;
        row.sum += delta.sum;
        if (delta.min < row.min) row.min = delta.min;
        if (delta.max > row.max) row.max = delta.max;
        if (delta.quantiles) row.quantiles = row.quantiles ? row.quantiles.merge(delta.quantiles) : delta.quantiles;
        const users = row.users.merge(delta.users);
        if (users !== row.users) {
          const estimate = users.estimate();
          row.users = users;
          row.usersCount = estimate.count;
          row.usersApprox = estimate.approximate;
          newUsers[i] = users.serialize();
        }
      }
      rows[i] = row;
    }

    const quantiles = pack(rows.map((r) => r.quantiles?.serialize()));
    const users = pack(newUsers);
    const usersOffsets = users.offsets.map((offset) => offset + quantiles.blob.length);
    await tx.query(UPSERT, [
      Buffer.concat([quantiles.blob, users.blob]),
      textArray(deltas.map((d) => d.metric)),
      textArray(deltas.map((d) => d.interval)),
      textArray(deltas.map((d) => d.grouping)),
      numberArray(deltas.map((d) => d.bucket)),
      textArray(deltas.map((d) => d.groupKey)),
      numberArray(rows.map((r) => r.count)),
      numberArray(rows.map((r) => r.sum)),
      numberArray(rows.map((r) => r.min)),
      numberArray(rows.map((r) => r.max)),
      numberArray(quantiles.offsets),
      numberArray(quantiles.lengths),
      numberArray(usersOffsets),
      numberArray(users.lengths),
      numberArray(rows.map((r) => r.usersCount)),
      `{${rows.map((r) => (r.usersApprox ? 't' : 'f')).join(',')}}`,
      seq,
    ]);
    return { ids, rows };
  }

  /** Caches a committed fold's rows as the most recently used, evicting the least recently used beyond the bound. */
  private remember({ ids, rows }: Folded): void {
    const limit = this.options.cacheRows ?? CACHE_ROWS;
    for (let i = 0; i < ids.length; i++) {
      this.cache.delete(ids[i]!);
      this.cache.set(ids[i]!, rows[i]!);
    }
    if (this.cache.size <= limit) return;
    let excess = this.cache.size - limit;
    for (const id of this.cache.keys()) {
      if (excess-- <= 0) break;
      this.cache.delete(id);
    }
  }

  async readSeries(plan: ReadPlan['series']): Promise<SeriesRow[]> {
    const result = await this.db.query<{
      bucket_ms: number;
      group_key: string;
      count: number;
      sum: number;
      min: number;
      max: number;
      qsketch: Uint8Array | null;
      users_count: number;
      users_approx: boolean;
    }>(
      `SELECT (extract(epoch FROM bucket) * 1000)::int8 AS bucket_ms, group_key, count, sum, min, max, qsketch, users_count, users_approx
       FROM rollups
       WHERE metric = $1 AND interval = $2 AND grouping = $3 AND bucket >= to_timestamp($4::int8 / 1000) AND bucket < to_timestamp($5::int8 / 1000)`,
      [plan.metric, plan.interval, plan.grouping, plan.from, plan.to],
    );
    return result.rows.map((row) => ({
      bucket: row.bucket_ms,
      groupKey: row.group_key,
      count: row.count,
      sum: row.sum,
      min: row.min,
      max: row.max,
      quantiles: row.qsketch ? QuantileSketch.deserialize(row.qsketch) : undefined,
      users: row.users_count,
      usersApprox: row.users_approx,
    }));
  }

  async readGroupUsers(plan: ReadPlan['users']): Promise<GroupUsersRow[]> {
    if (plan.tiles.length === 0) return [];
    const result = await this.db.query<{ group_key: string; users: Uint8Array }>(
      `SELECT r.group_key, r.users
       FROM unnest($3::text[], $4::int8[], $5::int8[]) AS t(interval, from_ms, to_ms)
       JOIN rollups r ON r.metric = $1 AND r.grouping = $2 AND r.interval = t.interval
         AND r.bucket >= to_timestamp(t.from_ms / 1000) AND r.bucket < to_timestamp(t.to_ms / 1000)`,
      [plan.metric, plan.grouping, plan.tiles.map((t) => t.interval), plan.tiles.map((t) => t.from), plan.tiles.map((t) => t.to)],
    );
    return result.rows.map((row) => ({ groupKey: row.group_key, users: DistinctSketch.deserialize(row.users) }));
  }
}
