import { createHash } from 'node:crypto';
import type { StoredEvent } from '../../domain/events/schema';
import { DistinctSketch, type DistinctEstimate } from '../../domain/rollups/distinct-sketch';
import { researchValues } from '../../domain/privacy/research-release';
import {
  byBucketAndKey,
  dayDecisionPlan,
  metricReleasePolicy,
  projectSeriesRows,
  releasedRows,
  sumSketchRows,
  type DecidedHours,
  type SeriesRow,
  type SeriesSelection,
  type SeriesSketchRow,
  type Span,
  type UsedRows,
} from '../../domain/rollups/metric-query';
import { QuantileSketch } from '../../domain/rollups/quantile-sketch';
import {
  bucketStart,
  computeRollups,
  FINEST_GROUPINGS,
  INTERVAL_MS,
  rollUpMinutes,
  rollupKeyId,
  rowSource,
  STORED_GROUPINGS,
  type Interval,
  type KeyProjection,
  type RollupRow,
  type RollupValues,
} from '../../domain/rollups/rollup';

import type { AppliedEvents, PurgeResult, RollUpStep, RollupPurgeCutoffs, RollupStore } from '../../ports/rollups';
import type { SqlDatabase, SqlExecutor } from './database';
import { prepared } from './prepared-statements';
import { RecencyBoundedMap } from './recency-bounded-map';
import { FeatureStateWriter, signedSubjectHash } from './sql-user-features';
import { EventIdWriter } from './sql-event-ids';
import { bareArray, textArray } from './array-literals';

/**
 * Sketches are merged in memory, so two aggregators writing the same row at once would lose one
 * side's users (each writes its own merge of what it read). Every concurrent batch hits the same
 * current buckets, so finer locks would not buy parallelism: every applying transaction first
 * increments the single rollup_writer row, whose row lock serialises the short read-merge-write
 * (released by commit or rollback, never leaked) and whose value numbers the write.
 *
 * Each store keeps the rows it last wrote or read (an LRU of about CACHE_BYTES): in live traffic a
 * batch adds to the current minute's rows, which the batch before wrote, and a roll-up to the
 * current hour and day rows, which the run before wrote; their users sketches run to 16 KiB, so
 * reading them back every time would be most of the work. A cached row is trusted when it
 * carries the version the database holds, which is checked under the lock:
 * - while every write since the row was last checked was this store's own (the sequence moved by
 *   exactly one per transaction of ours), no other writer can have changed it: no read at all;
 * - otherwise (another Lambda instance wrote in between) the keys of those cached rows are sent
 *   with the cached versions and only rows whose version differs come back whole;
 * - a row that is not cached is written as new without a read (see UPSERT), and read and merged
 *   only when it turns out to exist.
 */
export const CACHE_BYTES = 32 * 1024 * 1024;
/**
 * What a cached row holds besides its sketches: the row object, its key and the cache's entry for
 * it (measured on Node 20). The bound is in bytes because a row's sketches are most of it and
 * grow with the data: the 100,000 rows the cache was bounded by before would have held about
 * 160 MB, most of it on the aggregator thread's heap, in the demo's 1,000,000 events (51,000 rows
 * held 81 MB there at 423,000 events, 1.6 KB a row); 32 MiB holds some 20,000 such rows, hours of the current
 * minutes', hours' and days' rows the live path writes again.
 */
const ROW_BYTES = 280;
/**
 * At most this many parts a minute row keeps beside its users sketch (migration 033) before a
 * write folds them into it: a read of the row merges them, and the sketch is written whole once
 * in this many batches instead of in every one.
 */
export const MINUTE_USER_PARTS = 16;
/** Under this many users (8 bytes each) a minute row's sketch is written whole: a part's row would cost as much. */
const PART_FROM_USERS = 64;

/**
 * How many hours of minutes one roll-up transaction folds at most (from the first minute with
 * rows): catching up after a pause goes in steps that each hold the writer lock briefly.
 */
export const ROLL_UP_SPAN_MS = 6 * 3_600_000;

/**
 * And at most this many minute rows (whole minutes; at least one). Six hours of live traffic at
 * the target rate are ~100,000 minute rows whose users sketches run to 16 KiB each: more than a
 * step's function has memory for.
 */
export const ROLL_UP_STEP_ROWS = 10_000;


/** A timestamptz as epoch ms: a double is all an instant needs (extract would answer a numeric since PostgreSQL 14). */
function epochMs(expression: string): string {
  return `(date_part('epoch', ${expression}) * 1000)::int8`;
}

// The writer lock (the write's number) and the roll-up's watermark.
const LOCK_WRITER = `UPDATE rollup_writer SET seq = seq + 1 RETURNING seq, ${epochMs('rolled_up_to')} AS rolled_up_to`;

// Retention ($1 event ids, $2 minute rows, $3 hour rows: epoch ms cutoffs). Minute rows from the
// watermark on are still to be folded into hours and days, so they stay whatever their age.
const PURGE = `
  WITH keys AS (DELETE FROM rollup_event_ids WHERE processed_at < to_timestamp($1::int8 / 1000) RETURNING octet_length(ids) / 16 AS ids),
  minutes AS (
    DELETE FROM rollups r USING rollup_writer w
    WHERE r.interval = 'minute' AND r.bucket < least(to_timestamp($2::int8 / 1000), w.rolled_up_to) RETURNING 1
  ),
  minute_users AS (
    DELETE FROM rollup_minute_users p USING rollup_writer w WHERE p.bucket < least(to_timestamp($2::int8 / 1000), w.rolled_up_to)
  ),
  hours AS (DELETE FROM rollups WHERE interval = 'hour' AND bucket < to_timestamp($3::int8 / 1000) RETURNING 1),
  hour_sketches AS (DELETE FROM rollup_sketches WHERE interval = 'hour' AND bucket < to_timestamp($3::int8 / 1000)),
  -- Every block that held a purged hour: the roll-up packs what is left of a day again.
  hour_blocks AS (DELETE FROM rollup_hour_blocks WHERE day < to_timestamp($3::int8 / 1000)),
  erasures AS (DELETE FROM erased_subjects WHERE erased_at < to_timestamp($1::int8 / 1000)),
  research AS (DELETE FROM research_values WHERE occurred_at < to_timestamp($3::int8 / 1000))
  SELECT (SELECT coalesce(sum(ids), 0) FROM keys)::int4 AS keys, (SELECT count(*) FROM minutes)::int4 AS minutes, (SELECT count(*) FROM hours)::int4 AS hours`;
// Erasure ($1 subject hash, $2 epoch ms): the tombstone first, then the subject's event ids.
const ERASE_SUBJECT = `
  WITH tombstone AS (
    INSERT INTO erased_subjects (subject_hash, erased_at) VALUES ($1, to_timestamp($2::int8 / 1000.0))
    ON CONFLICT (subject_hash) DO UPDATE SET erased_at = greatest(erased_subjects.erased_at, excluded.erased_at)
  ),
  ids AS (DELETE FROM rollup_event_ids WHERE subject_hash = $1 RETURNING octet_length(ids) / 16 AS ids),
  research AS (DELETE FROM research_values WHERE subject_hash = $1 RETURNING 1),
  features AS (DELETE FROM user_features WHERE subject_hash = $1 RETURNING 1),
  assignments AS (DELETE FROM user_pattern_assignments WHERE subject_hash = $1 RETURNING 1)
  SELECT (SELECT coalesce(sum(ids), 0) FROM ids)::int4 AS ids, (SELECT count(*) FROM research)::int4 AS research, (SELECT count(*) FROM features)::int4 AS features,
    (SELECT count(*) FROM assignments)::int4 AS assignments`;

// The values research-consented events give the research dataset ($1..$5 arrays).
const INSERT_RESEARCH_VALUES = prepared('rollups.research-values', `
  INSERT INTO research_values (subject_hash, metric, occurred_at, value, event_id)
  SELECT * FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::float8[], $5::uuid[])`);
const READ_WATERMARK = `SELECT ${epochMs('rolled_up_to')} AS rolled_up_to FROM rollup_writer`;
const MOVE_WATERMARK = `UPDATE rollup_writer SET rolled_up_to = to_timestamp($1::int8 / 1000)`;

// The finest groupings' minute rows ($1 metrics, $2 groupings) in [$3, $4) (epoch ms).
const FINEST_MINUTES = `unnest($1::text[], $2::text[]) AS f(metric, grouping)
  JOIN rollups r ON r.metric = f.metric AND r.interval = 'minute' AND r.grouping = f.grouping
    AND r.bucket >= to_timestamp($3::int8 / 1000) AND r.bucket < to_timestamp($4::int8 / 1000)`;
// How many minute rows of the finest groupings each minute in [$3, $4) holds.
const MINUTE_ROW_COUNTS = `
  SELECT ${epochMs('r.bucket')} AS bucket_ms, count(*)::int4 AS rows
  FROM ${FINEST_MINUTES}
  GROUP BY r.bucket ORDER BY r.bucket`;
// The first minute with rows at or after $3: one index probe per grouping.
const FIRST_MINUTE = `
  SELECT ${epochMs('min(m.bucket)')} AS bucket_ms
  FROM unnest($1::text[], $2::text[]) AS f(metric, grouping)
  CROSS JOIN LATERAL (
    SELECT min(r.bucket) AS bucket FROM rollups r
    WHERE r.metric = f.metric AND r.interval = 'minute' AND r.grouping = f.grouping AND r.bucket >= to_timestamp($3::int8 / 1000)
  ) m`;

// Minute rows carry their sketches inline; hour and day rows keep theirs in rollup_sketches, so
// that the rows a long series reads stay narrow (see migration 002). A row `r` with its sketches:
// Lateral (and kept so by OFFSET 0), so the sketch is found by its whole key in the index whatever
// the planner estimates: PGlite keeps no statistics, and as a plain join its guess of one row per
// side made it scan every sketch of the grouping once per row read (a 30-day series took seconds).
const JOIN_SKETCHES = `LEFT JOIN LATERAL (
    SELECT s.qsketch, s.users FROM rollup_sketches s WHERE r.interval <> 'minute' AND s.metric = r.metric AND s.interval = r.interval
      AND s.grouping = r.grouping AND s.bucket = r.bucket AND s.group_key = r.group_key OFFSET 0) s ON true`;
// A row's users sketch with the parts kept beside a minute row (migration 033), as ONE value
// that storedUsers reads: where there are parts, a 0 byte (no sketch's kind), then each sketch
// after its length, the row's own first. Most rows have none and are read as they are stored.
const MINUTE_USERS = `CASE WHEN r.user_parts > 0 THEN '\\x00'::bytea || int4send(octet_length(r.users)) || r.users
    || COALESCE((SELECT string_agg(int4send(octet_length(p.users)) || p.users, ''::bytea) FROM rollup_minute_users p
      WHERE p.metric = r.metric AND p.grouping = r.grouping AND p.bucket = r.bucket AND p.group_key = r.group_key), ''::bytea)
    ELSE r.users END`;
const USERS_SKETCH = `COALESCE(s.users, ${MINUTE_USERS}) AS users`;
const SKETCHES = `COALESCE(s.qsketch, r.qsketch) AS qsketch, ${USERS_SKETCH}`;

// Rows of the batch's keys whose version is not the one cached (NULL: not cached); a cached key
// whose row is gone comes back with NULLs.
const READ_CHANGED = prepared('rollups.read-changed', `
  SELECT k.i::int4 AS i, r.version, r.count, r.sum, r.min, r.max, ${SKETCHES}, r.users_count, r.users_approx, r.user_parts
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::int8[])
    WITH ORDINALITY AS k(metric, interval, grouping, bucket_ms, group_key, version, i)
  LEFT JOIN rollups r ON r.metric = k.metric AND r.interval = k.interval AND r.grouping = k.grouping
    AND r.bucket = to_timestamp(k.bucket_ms / 1000) AND r.group_key = k.group_key
  ${JOIN_SKETCHES}
  WHERE r.version IS DISTINCT FROM k.version`);

// All sketches travel as ONE bytea parameter (sent in binary by pg), each row naming its slice:
// no hex encoding and array-literal escaping per sketch. A users sketch the batch did not change
// has length 0 and keeps the stored value: most hour and day rows already hold the batch's users,
// and rewriting those sketches would be most of the bytes written. (An empty value rather than
// NULL, which would fail the NOT NULL check before the conflict is seen.)
//
// Rows the store has no copy of are written optimistically as new (`fresh`): on time-ordered
// traffic nearly all of them are (a new minute, hour or day), so reading them first would be a
// round trip that finds nothing. New rows go in in key order, so the rows one series query reads
// (say the hours of one grouping) share heap pages instead of each sitting on a page of its own
// among the batch's other rows. A fresh row that turns out to exist is left untouched (DO
// NOTHING); the count of inserted rows tells when that happened, and only then are those rows
// read back, merged and written again. Known rows (cached and current) are upserted as before.
//
// A minute row's users slice may instead be a part (`u_part`, see migration 033): added beside
// the row, whose own sketch stays as stored. A row written whole that had parts (`drop_parts`)
// drops them: its sketch now holds their users.
const UPSERT = prepared('rollups.upsert', `
  WITH t AS MATERIALIZED (
    SELECT metric, interval, grouping, to_timestamp(bucket_ms / 1000) AS bucket, group_key, count, sum, min, max,
           CASE WHEN q_length > 0 THEN substring($1::bytea FROM q_offset + 1 FOR q_length) END AS qsketch,
           substring($1::bytea FROM u_offset + 1 FOR u_length) AS users, users_count, users_approx, fresh, p50, p95,
           user_parts, u_part, drop_parts,
           interval = 'minute' AS inline, bucket_ms / ${INTERVAL_MS.day} * ${INTERVAL_MS.day} AS day_ms
    FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::int8[], $8::float8[], $9::float8[], $10::float8[],
                $11::int4[], $12::int4[], $13::int4[], $14::int4[], $15::int4[], $16::bool[], $18::bool[], $19::float8[], $20::float8[],
                $21::int2[], $22::bool[], $23::bool[])
      AS u(metric, interval, grouping, bucket_ms, group_key, count, sum, min, max,
           q_offset, q_length, u_offset, u_length, users_count, users_approx, fresh, p50, p95, user_parts, u_part, drop_parts)
  ), unpacked AS (
    -- A completed day whose hour rows change (late or imported events) is packed again by the roll-up.
    DELETE FROM rollup_hour_blocks b USING (SELECT DISTINCT metric, day_ms FROM t WHERE interval = 'hour') h
    WHERE b.metric = h.metric AND b.day = to_timestamp(h.day_ms / 1000)
  ), rows AS (
    SELECT metric, interval, grouping, bucket, group_key, count, sum, min, max,
           CASE WHEN inline THEN qsketch END AS qsketch, p50, p95, CASE WHEN inline AND NOT u_part THEN users ELSE ''::bytea END AS users,
           users_count, users_approx, user_parts, fresh
    FROM t
  ), inserted AS (
    INSERT INTO rollups (metric, interval, grouping, bucket, group_key, count, sum, min, max, qsketch, p50, p95, users, users_count, users_approx, user_parts, version)
    SELECT metric, interval, grouping, bucket, group_key, count, sum, min, max, qsketch, p50, p95, users, users_count, users_approx, user_parts, $17::int8
    FROM rows WHERE fresh ORDER BY metric, interval, grouping, bucket, group_key
    ON CONFLICT (metric, interval, grouping, bucket, group_key) DO NOTHING
    RETURNING metric, interval, grouping, bucket, group_key
  ), updated AS (
    INSERT INTO rollups (metric, interval, grouping, bucket, group_key, count, sum, min, max, qsketch, p50, p95, users, users_count, users_approx, user_parts, version)
    SELECT metric, interval, grouping, bucket, group_key, count, sum, min, max, qsketch, p50, p95, users, users_count, users_approx, user_parts, $17::int8
    FROM rows WHERE NOT fresh
    ON CONFLICT (metric, interval, grouping, bucket, group_key) DO UPDATE SET
      count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max, qsketch = EXCLUDED.qsketch,
      p50 = EXCLUDED.p50, p95 = EXCLUDED.p95,
      users = CASE WHEN octet_length(EXCLUDED.users) = 0 THEN rollups.users ELSE EXCLUDED.users END,
      users_count = EXCLUDED.users_count, users_approx = EXCLUDED.users_approx, user_parts = EXCLUDED.user_parts, version = EXCLUDED.version
  ), parts AS (
    INSERT INTO rollup_minute_users (metric, grouping, bucket, group_key, version, users)
    SELECT metric, grouping, bucket, group_key, $17::int8, users FROM t WHERE u_part
  ), folded_parts AS (
    DELETE FROM rollup_minute_users p USING t
    WHERE t.drop_parts AND p.metric = t.metric AND p.grouping = t.grouping AND p.bucket = t.bucket AND p.group_key = t.group_key
  ), sketched AS (
    -- Hour and day sketches that changed, of the rows written above (a fresh row left alone
    -- because it exists is merged and written again by the caller).
    INSERT INTO rollup_sketches (metric, interval, grouping, bucket, group_key, qsketch, users)
    SELECT t.metric, t.interval, t.grouping, t.bucket, t.group_key, t.qsketch, t.users
    FROM t LEFT JOIN (SELECT * FROM inserted WHERE interval <> 'minute') i
      ON t.fresh AND i.metric = t.metric AND i.interval = t.interval AND i.grouping = t.grouping AND i.bucket = t.bucket AND i.group_key = t.group_key
    WHERE NOT t.inline AND CASE WHEN t.fresh THEN i.metric IS NOT NULL ELSE t.qsketch IS NOT NULL OR octet_length(t.users) > 0 END
    ORDER BY t.metric, t.interval, t.grouping, t.bucket, t.group_key
    ON CONFLICT (metric, interval, grouping, bucket, group_key) DO UPDATE SET
      qsketch = EXCLUDED.qsketch,
      users = CASE WHEN octet_length(EXCLUDED.users) = 0 THEN rollup_sketches.users ELSE EXCLUDED.users END
  )
  SELECT count(*)::int4 AS inserted FROM inserted`);

const BUCKET_MS = `${epochMs('r.bucket')} AS bucket_ms`;
// The rows `r` of a SeriesSelection ($1 metric, $2 interval, $3 grouping, $4 from and $5 to in epoch ms).
const SELECTION = `r.metric = $1 AND r.interval = $2 AND r.grouping = $3
  AND r.bucket >= to_timestamp($4::int8 / 1000) AND r.bucket < to_timestamp($5::int8 / 1000)`;
const selectionParams = (plan: SeriesSelection) => [plan.metric, plan.interval, plan.grouping, plan.from, plan.to];

// The parts of an hour or day series (`part`): rows the roll-up has completed (the bucket ends at
// or before the watermark), as stored; and the rows it has not, each summed from the row holding
// its minutes before the watermark and the minute rows from the watermark on. Every level a query
// reads (SeriesSelection) is one row of `l`, all in ONE statement: PGlite spent ~10 ms planning
// and passing each statement, and a query by three dimensions reads 16 levels. One statement is
// also one snapshot, so no roll-up between two reads counts its minutes twice or not at all.
const [STARTED, MINUTES] = [1, 2];
// $1.. the levels' metrics, intervals, groupings, from and to (epoch ms), whether they want
// values (sum, quantiles), their interval in ms, and the grouping their minutes are stored in.
const LEVELS = `l AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::bool[], $7::int8[], $8::text[])
      WITH ORDINALITY AS l(metric, interval, grouping, from_ms, to_ms, with_values, step_ms, minute_grouping, i))`;
// Read once, before the scans (an InitPlan), so it bounds each part's index range: as a joined
// CTE it was a filter on every row of the 30 days, minute rows included.
const WATERMARK = `(SELECT rolled_up_to FROM rollup_writer)`;
const LEVEL_ROWS = `r.metric = l.metric AND r.interval = l.interval AND r.grouping = l.grouping
    AND r.bucket >= to_timestamp(l.from_ms / 1000) AND r.bucket < to_timestamp(l.to_ms / 1000)`;
const LAST_WHOLE = `${WATERMARK} - l.step_ms * interval '1 millisecond'`;
// Buckets as whole minutes after the level's start: a short int4 parses in a fraction of the time
// of a 13-digit int8 of epoch milliseconds.
const MINUTES_FROM = `((date_part('epoch', r.bucket) - l.from_ms / 1000) / 60)::int4`;
// The completed rows are most of a series (11,405 rows for 30 days of events by type and platform)
// and come as ONE text per level, a line per row: a result row cost PGlite ~20 µs (and the pg
// driver a field parse per column), ten times what finding it cost the database. Fields:
// minutes_from, count, users_count, users_approx as 0 or 1, group_key last (JSON: it may hold
// spaces, never a raw line break). Grouping them by key in SQL, to send each key once, made
// PGlite sort every level by key, which cost more than the keys did. Where the level wants
// values, each row's sum, min, max, p50 and p95 follow in one bytea of the level, as float8send
// writes them (8 bytes each, big-endian, rows in the same order): formatting and parsing five
// decimal doubles per row cost more than the rest of the row. A NULL quantile is sent as NaN,
// which no quantile of finite values is.
//
// Hour levels are read in chunks ($9 level, $10 from and $11 to, epoch ms; see hourChunks), each
// a UTC day but for the oldest: a day the roll-up has packed is read as it was stored
// (rollup_hour_blocks, migration 011), other chunks are packed from their rows, with the interval
// named so the plan holds only the hour partition's lookup per chunk. A chunk's lines count
// minutes from its start, sent beside it.
const packedLine = (fromSeconds: string) =>
  `concat_ws(' ', ((date_part('epoch', r.bucket) - ${fromSeconds}) / 60)::int4, r.count, r.users_count, r.users_approx::int, r.group_key)`;
const packedValues = (orderBy = '') => `string_agg(float8send(r.sum) || float8send(r.min) || float8send(r.max)
    || float8send(COALESCE(r.p50, 'NaN')) || float8send(COALESCE(r.p95, 'NaN')), ''::bytea ${orderBy})`;
// The open rows carry their sketches and come as rows (few: the open hour and day, the minutes
// since the watermark). OFFSET 0 keeps each lateral subquery from being flattened into a join
// the planner might run as a scan of the whole table: PGlite keeps no statistics to warn it.
const OPEN_COLUMNS = (users: string, qsketch: string) =>
  `${MINUTES_FROM} AS minutes_from, r.group_key, r.count, r.users_count, r.users_approx, ${users} AS users,
   r.sum, r.min, r.max, CASE WHEN l.with_values THEN ${qsketch} END AS qsketch`;
const SERIES_LEVELS = `
  WITH ${LEVELS}
  SELECT l.i::int4, NULL::int4 AS part, 0, NULL::text, NULL::int8, NULL::int4, NULL::bool, NULL::bytea,
    NULL::float8, NULL::float8, NULL::float8, p.packed_values, p.packed
  FROM l CROSS JOIN LATERAL (
    SELECT string_agg(${packedLine('l.from_ms / 1000')}, E'\\n') AS packed, CASE WHEN l.with_values THEN ${packedValues()} END AS packed_values
    FROM rollups r WHERE ${LEVEL_ROWS} AND r.bucket <= ${LAST_WHOLE}
  ) p WHERE l.interval <> 'hour' AND p.packed IS NOT NULL
  UNION ALL
  SELECT l.i::int4, NULL::int4, ((c.from_ms - l.from_ms) / 60000)::int4, NULL::text, NULL::int8, NULL::int4, NULL::bool, NULL::bytea,
    NULL::float8, NULL::float8, NULL::float8, p.packed_values, p.packed
  FROM unnest($9::int4[], $10::int8[], $11::int8[]) AS c(i, from_ms, to_ms) JOIN l ON l.i = c.i
  LEFT JOIN LATERAL (
    SELECT b.packed, b.packed_values FROM rollup_hour_blocks b
    WHERE c.to_ms - c.from_ms = ${INTERVAL_MS.day} AND b.metric = l.metric AND b.day = to_timestamp(c.from_ms / 1000) AND b.grouping = l.grouping
      AND (b.packed_values IS NOT NULL OR NOT l.with_values) OFFSET 0
  ) b ON true
  CROSS JOIN LATERAL (
    SELECT b.packed, CASE WHEN l.with_values THEN b.packed_values END AS packed_values WHERE b.packed IS NOT NULL
    UNION ALL
    SELECT string_agg(${packedLine('c.from_ms / 1000')}, E'\\n'), CASE WHEN l.with_values THEN ${packedValues()} END
    FROM rollups r WHERE b.packed IS NULL AND r.metric = l.metric AND r.interval = 'hour' AND r.grouping = l.grouping
      AND r.bucket >= to_timestamp(c.from_ms / 1000) AND r.bucket < to_timestamp(c.to_ms / 1000) AND r.bucket <= ${LAST_WHOLE}
  ) p WHERE p.packed IS NOT NULL
  UNION ALL
  SELECT l.i::int4, ${STARTED}, o.*, NULL FROM l CROSS JOIN LATERAL (
    SELECT ${OPEN_COLUMNS('COALESCE(s.users, r.users)', 'COALESCE(s.qsketch, r.qsketch)')}
    FROM rollups r ${JOIN_SKETCHES} WHERE ${LEVEL_ROWS} AND r.bucket > ${LAST_WHOLE} OFFSET 0
  ) o
  UNION ALL
  SELECT l.i::int4, ${MINUTES}, o.*, NULL FROM l CROSS JOIN LATERAL (
    SELECT ${OPEN_COLUMNS(MINUTE_USERS, 'r.qsketch')}
    FROM rollups r WHERE r.metric = l.metric AND r.interval = 'minute' AND r.grouping = l.minute_grouping
      AND r.bucket >= greatest(${WATERMARK}, to_timestamp(l.from_ms / 1000)) AND r.bucket < to_timestamp(l.to_ms / 1000) OFFSET 0
  ) o`;
// A minute series: its rows are whole from their first write; a row's quantiles come from its
// sketch. ($1 metric, $2 interval, $3 grouping, $4 from and $5 to in epoch ms.)
const SERIES_COLUMNS = (values: boolean) =>
  `((date_part('epoch', r.bucket) - $4::int8 / 1000) / 60)::int4 AS minutes_from,
   r.group_key, r.count, r.users_count, r.users_approx${values ? ', r.sum, r.min, r.max, r.qsketch' : ''}`;
const MINUTE_SERIES = (values: boolean) => `SELECT ${SERIES_COLUMNS(values)} FROM rollups r WHERE ${SELECTION}`;
// The rows of an hour or day selection with their sketches (the roll-up's rows, whole or
// started), and the minute rows from the watermark on ($6 the grouping they are stored in), in
// one snapshot, as SERIES_LEVELS reads them.
const OPEN_SKETCHES = `
  SELECT NULL::int4 AS part, ${BUCKET_MS}, r.group_key, r.count, r.sum, r.min, r.max, ${SKETCHES}, r.users_count, r.users_approx
  FROM rollups r ${JOIN_SKETCHES} WHERE ${SELECTION}
  UNION ALL
  SELECT ${MINUTES}, ${BUCKET_MS}, r.group_key, r.count, r.sum, r.min, r.max, r.qsketch, ${MINUTE_USERS} AS users, r.users_count, r.users_approx
  FROM rollup_writer w, rollups r WHERE r.metric = $1 AND r.interval = 'minute' AND r.grouping = $6
    AND r.bucket >= greatest(w.rolled_up_to, to_timestamp($4::int8 / 1000)) AND r.bucket < to_timestamp($5::int8 / 1000)`;

// OPEN_SKETCHES' rows as one row of three fields: a line per row (part as 0 for a stored row,
// bucket in epoch ms, count, the users sketch's length, the quantile sketch's or -1, the users
// count stored beside the sketch and whether it is estimated as 0 or 1, group key last), each row's sum, min and max as float8send writes them, and the rows' sketches end to end.
// A result field cost PGlite a buffer of its own (most of a filtered answer's time, 16,500 hour
// rows of nine fields), and pg a parse; all three aggregates see the rows in one order. The
// sketches, megabytes for a month of days, travel as base64 (see SKETCHES_TEXT).
const PACKED_SKETCHES = `
  SELECT string_agg(concat_ws(' ', COALESCE(x.part, 0), x.bucket_ms, x.count, octet_length(x.users), COALESCE(octet_length(x.qsketch), -1), x.users_count, x.users_approx::int, x.group_key), E'\\n') AS packed,
    string_agg(float8send(x.sum) || float8send(x.min) || float8send(x.max), ''::bytea) AS packed_values,
    encode(string_agg(x.users || COALESCE(x.qsketch, ''::bytea), ''::bytea), 'base64') AS sketches
  FROM (${OPEN_SKETCHES}) x`;

/**
 * Sketches read by the megabyte (PACKED_SKETCHES, HOUR_SKETCHES) come as base64 text, not as
 * bytea: pg sends a bytea as hex, twice its bytes, and Node 20 decodes hex at about a third of
 * the speed of base64 (3 MB of sketches: 16-20 ms of CPU as hex, 7 ms as base64).
 */
function sketchBytes(base64: string): Buffer {
  return Buffer.from(base64, 'base64');
}

// A line's element of a block's `sketches` (migrations 019 and 022): sum, min, max, then each sketch after its length.
const BLOCK_SKETCH = `float8send(r.sum) || float8send(r.min) || float8send(r.max)
    || int4send(octet_length(${USERS_SKETCH.replace(' AS users', '')})) || ${USERS_SKETCH.replace(' AS users', '')}
    || int4send(COALESCE(octet_length(COALESCE(s.qsketch, r.qsketch)), -1)) || COALESCE(s.qsketch, r.qsketch, ''::bytea)`;

// The lines of the packed days among $3 (epoch ms) of one grouping ($1 metric, $2 grouping), and
// their md5, so that HOUR_SKETCHES can tell whether the lines it is told to send are still these.
const BLOCK_LINES = `
  SELECT d.day_ms, b.packed, md5(b.packed) FROM unnest($3::int8[]) AS d(day_ms)
  CROSS JOIN LATERAL (
    SELECT b.packed FROM rollup_hour_blocks b
    WHERE b.metric = $1 AND b.day = to_timestamp(d.day_ms / 1000) AND b.grouping = $2 AND b.sketches IS NOT NULL OFFSET 0
  ) b`;

// An hour selection's rows with their sketches (readSeriesSketches), a chunk at a time as
// SERIES_LEVELS reads lines ($3 from and $4 to, epoch ms; see hourChunks): a packed day from its
// block's lines and sketches, in one row; other chunks' rows and their minutes from the watermark
// on as PACKED_SKETCHES sends them ($1 metric, $2 grouping, $5 the grouping the minutes are
// stored in), all in one snapshot; sketches as base64 (sketchBytes). The chunks need not be contiguous (a local week's cut days).
// A packed day given a mask ($6, hex, a byte per line: 1 to send it) and the md5 of the lines it
// was made from ($7) sends only the sketches of its lines the mask keeps, and no lines: the
// reader has them. A block packed again since (other lines) is sent whole, lines and all.
const HOUR_SKETCHES = `
  WITH c AS MATERIALIZED (
    -- The mask once per day, here: referred to below, it was computed again for every line.
    SELECT c.from_ms, c.to_ms, b.packed, b.sketches, CASE WHEN md5(b.packed) = c.md5 THEN decode(c.mask, 'hex') END AS bits
    FROM unnest($3::int8[], $4::int8[], $6::text[], $7::text[]) AS c(from_ms, to_ms, mask, md5)
    LEFT JOIN LATERAL (
      SELECT b.packed, b.sketches FROM rollup_hour_blocks b
      WHERE c.to_ms - c.from_ms = ${INTERVAL_MS.day} AND b.metric = $1 AND b.day = to_timestamp(c.from_ms / 1000) AND b.grouping = $2
        AND b.sketches IS NOT NULL OFFSET 0
    ) b ON true
  )
  SELECT c.from_ms, CASE WHEN c.bits IS NULL THEN c.packed END, NULL::bytea AS packed_values,
    encode((SELECT COALESCE(string_agg(u.sketch, ''::bytea ORDER BY u.line), ''::bytea) FROM unnest(c.sketches) WITH ORDINALITY AS u(sketch, line)
      WHERE c.bits IS NULL OR get_byte(c.bits, (u.line - 1)::int4) = 1), 'base64')
  FROM c WHERE c.packed IS NOT NULL
  UNION ALL
  SELECT NULL, string_agg(concat_ws(' ', COALESCE(x.part, 0), x.bucket_ms, x.count, octet_length(x.users), COALESCE(octet_length(x.qsketch), -1), x.users_count, x.users_approx::int, x.group_key), E'\\n'),
    string_agg(float8send(x.sum) || float8send(x.min) || float8send(x.max), ''::bytea),
    encode(string_agg(x.users || COALESCE(x.qsketch, ''::bytea), ''::bytea), 'base64')
  FROM (
    SELECT o.* FROM c CROSS JOIN LATERAL (
      SELECT NULL::int4 AS part, ${BUCKET_MS}, r.group_key, r.count, r.sum, r.min, r.max, ${SKETCHES}, r.users_count, r.users_approx
      FROM rollups r ${JOIN_SKETCHES} WHERE r.metric = $1 AND r.interval = 'hour' AND r.grouping = $2
        AND r.bucket >= to_timestamp(c.from_ms / 1000) AND r.bucket < to_timestamp(c.to_ms / 1000) OFFSET 0
    ) o WHERE c.packed IS NULL
    UNION ALL
    SELECT o.* FROM c CROSS JOIN LATERAL (
      SELECT ${MINUTES}, ${BUCKET_MS}, r.group_key, r.count, r.sum, r.min, r.max, r.qsketch, ${MINUTE_USERS} AS users, r.users_count, r.users_approx
      FROM rollups r WHERE r.metric = $1 AND r.interval = 'minute' AND r.grouping = $5
        AND r.bucket >= greatest(${WATERMARK}, to_timestamp(c.from_ms / 1000)) AND r.bucket < to_timestamp(c.to_ms / 1000) OFFSET 0
    ) o WHERE c.packed IS NULL
  ) x
  HAVING count(*) > 0`;

/** How many days before the watermark the roll-up keeps packed (a month's hourly series, with room). */
const PACKED_DAYS = 62;

/** At most this many days of a metric are packed per roll-up step, so a backlog (new deployment) holds the writer lock briefly. */
const PACK_DAYS_PER_STEP = 40;

// The completed days of the last PACKED_DAYS that have no blocks (the total grouping '' stands
// for all: a metric's blocks of a day are written and deleted together), packed into
// rollup_hour_blocks as SERIES_LEVELS reads them ($1, $2 every stored grouping's metric and name;
// $3 the most days of a metric). Hours, not days, of interval: a day of the session's time zone
// may not be 24 hours long.
const PACK_DAYS = `
  WITH days AS (
    SELECT m.metric, d.bucket AS day
    FROM (SELECT DISTINCT metric FROM unnest($1::text[]) AS g(metric)) m
    CROSS JOIN LATERAL (
      SELECT r.bucket FROM rollups r WHERE r.metric = m.metric AND r.interval = 'day' AND r.grouping = ''
        AND r.bucket >= ${WATERMARK} - interval '${PACKED_DAYS * 24} hours' AND r.bucket <= ${WATERMARK} - interval '24 hours'
        AND NOT EXISTS (SELECT 1 FROM rollup_hour_blocks b WHERE b.metric = r.metric AND b.day = r.bucket AND b.grouping = '')
      OFFSET 0
    ) d
    ORDER BY d.bucket DESC LIMIT $3
  )
  INSERT INTO rollup_hour_blocks (metric, day, grouping, packed, packed_values, sketches)
  SELECT g.metric, days.day, g.grouping, p.packed, p.packed_values, p.sketches
  FROM days JOIN unnest($1::text[], $2::text[]) AS g(metric, grouping) ON g.metric = days.metric
  CROSS JOIN LATERAL (
    SELECT string_agg(${packedLine("date_part('epoch', days.day)")}, E'\\n' ORDER BY r.bucket, r.group_key) AS packed,
      CASE WHEN bool_or(r.p50 IS NOT NULL) THEN ${packedValues('ORDER BY r.bucket, r.group_key')} END AS packed_values,
      array_agg(${BLOCK_SKETCH} ORDER BY r.bucket, r.group_key) AS sketches
    FROM rollups r ${JOIN_SKETCHES} WHERE r.metric = g.metric AND r.interval = 'hour' AND r.grouping = g.grouping
      AND r.bucket >= days.day AND r.bucket < days.day + interval '24 hours'
  ) p
  WHERE p.packed IS NOT NULL
  ON CONFLICT (metric, day, grouping) DO NOTHING
  RETURNING metric, ${epochMs('day')} AS day_ms`;

/**
 * At most this many days of metrics are decided per roll-up step, each about 15-25 ms under the
 * writer lock on 1,000,000 events: a backlog (a new deployment, or a new k) is decided over steps.
 */
const DECIDE_DAYS_PER_STEP = 20;

// Packed days whose decisions are not for $1 (k), newest first, at most $2 ($3 the metrics with a
// finest grouping): every block of a metric's day is decided at once, so its total block stands for all.
const UNDECIDED_DAYS = `
  SELECT b.metric, ${epochMs('b.day')} AS day_ms FROM rollup_hour_blocks b
  WHERE b.grouping = '' AND b.released_k IS DISTINCT FROM $1 AND b.metric = ANY($3::text[])
  ORDER BY b.day DESC, b.metric LIMIT $2`;
// $1.. the blocks' metrics, days (epoch ms), groupings, decisions (hex, a byte per line), $5 k.
const DECIDE_BLOCKS = `
  UPDATE rollup_hour_blocks b SET released = decode(u.released, 'hex'), released_k = $5
  FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[]) AS u(metric, day_ms, grouping, released)
  WHERE b.metric = u.metric AND b.day = to_timestamp(u.day_ms / 1000) AND b.grouping = u.grouping`;
// The blocks of one grouping ($1 metric, $2 grouping) on the days $3 (epoch ms) decided for $4
// (k), and whether each day is known to have no rows: whole before the watermark, and no total
// day row. $5: whether the values are wanted (a block without them is read from its rows).
// Each block comes with its version, the xmin of its row: every change of a block (packed
// again after its day's hours changed, decided again) writes a new row version in a transaction
// of its own, and no two committed versions of a row share one. A block whose version the reader
// says it holds ($6, per day) is sent without its lines, values and decisions.
const DECIDED_BLOCKS = `
  SELECT d.day_ms, CASE WHEN b.version IS DISTINCT FROM d.held THEN b.packed END AS packed,
    CASE WHEN $5::bool AND b.version IS DISTINCT FROM d.held THEN b.packed_values END AS packed_values,
    CASE WHEN b.version IS DISTINCT FROM d.held THEN b.released END AS released,
    b.packed IS NULL AND to_timestamp(d.day_ms / 1000) + interval '24 hours' <= ${WATERMARK} AND NOT EXISTS (
      SELECT 1 FROM rollups r WHERE r.metric = $1 AND r.interval = 'day' AND r.grouping = '' AND r.bucket = to_timestamp(d.day_ms / 1000)
    ) AS empty,
    b.version
  FROM unnest($3::int8[], $6::text[]) AS d(day_ms, held)
  LEFT JOIN LATERAL (
    SELECT b.xmin::text AS version, b.packed, b.packed_values, b.released FROM rollup_hour_blocks b
    WHERE b.metric = $1 AND b.day = to_timestamp(d.day_ms / 1000) AND b.grouping = $2 AND b.released_k = $4
      AND (b.packed_values IS NOT NULL OR NOT $5::bool) OFFSET 0
  ) b ON true
  ORDER BY d.day_ms`;

/**
 * How many decided hour rows a store keeps unpacked (readDecidedHours), about 150 bytes each with
 * their share of the lines: a dashboard asks for the same decided days again at every refresh,
 * and unpacking them was most of the read (20,271 rows for 29 days of choice.response_time by
 * choiceType and scenarioId on 1,000,000 events).
 */
const DECIDED_ROWS_KEPT = 60_000;

/** A decided day's block as read: its version (DECIDED_BLOCKS), lines, rows and decisions. */
interface DecidedDay {
  readonly version: string;
  readonly packed: string;
  readonly rows: readonly SeriesRow[];
  readonly released: Uint8Array;
  /** The md5 of the lines, as PostgreSQL's of the same UTF-8 text (HOUR_SKETCHES), computed once. */
  readonly md5: () => string;
}

/**
 * The chunks an hour selection is read in: its last DAY_CHUNKS UTC days (or parts of days, at
 * its ends) one by one, and anything before them as one. Each chunk is a lookup in the plan, and
 * past some estimated cost PostgreSQL JIT-compiles the statement (~80 ms, seconds on a busy
 * machine): days older than the roll-up packs (PACKED_DAYS) gain nothing from their own chunk.
 */
const DAY_CHUNKS = PACKED_DAYS + 2;

function hourChunks({ from, to }: Pick<SeriesSelection, 'from' | 'to'>): { from: number; to: number }[] {
  const chunks: { from: number; to: number }[] = [];
  let end = to;
  while (end > from && chunks.length < DAY_CHUNKS) {
    const start = Math.max(from, bucketStart(end - 1, 'day'));
    chunks.push({ from: start, to: end });
    end = start;
  }
  if (end > from) chunks.push({ from, to: end });
  return chunks.reverse();
}

/** A row of SERIES_LEVELS (an array: no object per row). */
type LevelReadRow = [
  level: number,
  part: number | null,
  /** A packed chunk's (part NULL) start, else the row's bucket: minutes from the level's `from`. */
  minutesFrom: number,
  groupKey: string,
  count: number,
  usersCount: number,
  usersApprox: boolean,
  users: Uint8Array,
  sum: number,
  min: number,
  max: number,
  qsketch: Uint8Array | null,
  packed: string | null,
];

/** A row of MINUTE_SERIES: SERIES_COLUMNS, the value columns only where the selection asked for values. */
type MinuteReadRow = [minutesFrom: number, groupKey: string, count: number, usersCount: number, usersApprox: boolean, sum?: number, min?: number, max?: number, qsketch?: Uint8Array | null];

/**
 * The point of a minute row. One object literal per kind of point, so all points share a shape:
 * spreading one object into another was most of a 30-day read's time.
 */
function minutePoint(row: MinuteReadRow, plan: SeriesSelection): SeriesRow {
  const bucket = plan.from + row[0] * INTERVAL_MS.minute;
  if (!plan.values) return { bucket, groupKey: row[1], count: row[2], users: row[3], usersApprox: row[4] };
  const quantiles = row[8] ? QuantileSketch.deserialize(row[8]).pointQuantiles() : undefined;
  return { bucket, groupKey: row[1], count: row[2], sum: row[5]!, min: row[6]!, max: row[7]!, p50: quantiles?.p50, p95: quantiles?.p95, users: row[3], usersApprox: row[4] };
}

/** Bytes of one row's values in a packedValues bytea: sum, min, max, p50 and p95. */
const VALUES_BYTES = 5 * 8;
const [ZERO, NINE, NEWLINE] = [48, 57, 10];

/**
 * The points of a chunk's packedLine lines (and packedValues where the level wants values), whose
 * minutes count from `from`, added to `points`: scanned in place, since cutting the text into a
 * string per field made most of a 30-day read's garbage. A line's key is reused from the line
 * before it in the same place of the bucket before (the keys of every bucket come in the same
 * order), so most rows of a group share one string, which the answer's table then finds by its
 * cached hash.
 */
function unpackLines(packed: string, values: Uint8Array | null, from: number, points: SeriesRow[]): void {
  let at = 0;
  // A whole number: every field before the key is one, never negative.
  const whole = () => {
    let value = 0;
    for (let code = packed.charCodeAt(at); code >= ZERO && code <= NINE; code = packed.charCodeAt(++at)) value = value * 10 + code - ZERO;
    at++;
    return value;
  };
  const doubles = values && new DataView(values.buffer, values.byteOffset, values.byteLength);
  // The keys of the bucket before, in order, and of this one so far.
  let before: string[] = [];
  let current: string[] = [];
  let bucketBefore = NaN;
  for (let row = 0; at < packed.length; row++) {
    const bucket = from + whole() * INTERVAL_MS.minute;
    const count = whole();
    const users = whole();
    const usersApprox = whole() === 1;
    let end = packed.indexOf('\n', at);
    if (end < 0) end = packed.length;
    if (bucket !== bucketBefore) {
      before = current;
      current = [];
      bucketBefore = bucket;
    }
    const guess = before[current.length];
    const groupKey = guess !== undefined && end - at === guess.length && packed.startsWith(guess, at) ? guess : packed.slice(at, end);
    current.push(groupKey);
    at = packed.charCodeAt(end) === NEWLINE ? end + 1 : end;
    if (!doubles) {
      points.push({ bucket, groupKey, count, users, usersApprox });
      continue;
    }
    const offset = row * VALUES_BYTES;
    const [p50, p95] = [doubles.getFloat64(offset + 24), doubles.getFloat64(offset + 32)];
    points.push({
      bucket,
      groupKey,
      count,
      sum: doubles.getFloat64(offset),
      min: doubles.getFloat64(offset + 8),
      max: doubles.getFloat64(offset + 16),
      p50: Number.isNaN(p50) ? undefined : p50,
      p95: Number.isNaN(p95) ? undefined : p95,
      users,
      usersApprox,
    });
  }
}

/** A row as stored, with the write that stored it and the last of our writes that saw it current. */
interface CachedRow {
  /** What the row held in memory when last cached (ROW_BYTES and its sketches'). */
  bytes: number;
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
  /** How many parts a minute row keeps beside its users sketch (migration 033); `users` holds them. */
  userParts: number;
}

/** What a stored row holds of its events, with its sketches, as read. */
interface StoredValues {
  count: number;
  sum: number;
  min: number;
  max: number;
  qsketch: Uint8Array | null;
  users: Uint8Array;
}

/** A minute row of a finest grouping, as the roll-up reads it. */
interface MinuteRow extends StoredValues {
  metric: string;
  grouping: string;
  group_key: string;
  bucket_ms: number;
}

interface ChangedRow extends StoredValues {
  i: number;
  version: number | null;
  users_count: number;
  users_approx: boolean;
  user_parts: number;
}

/** A stored row's values with its sketches deserialised. */
function valuesOf(row: StoredValues): RollupValues {
  return {
    count: row.count,
    sum: row.sum,
    min: row.min,
    max: row.max,
    quantiles: row.qsketch ? QuantileSketch.deserialize(row.qsketch) : undefined,
    users: storedUsers(row.users),
  };
}

/**
 * The users sketch of a row as MINUTE_USERS reads it: the row's own, or its union with its parts.
 * `stored`, the estimate written beside the row, is taken for the row's own sketch; a union is
 * counted from its registers, which hold the same users.
 */
function storedUsers(bytes: Uint8Array, stored?: DistinctEstimate): DistinctSketch {
  if (bytes[0] !== 0) return DistinctSketch.deserialize(bytes, stored);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sketches: DistinctSketch[] = [];
  for (let at = 1; at < bytes.length; ) {
    const length = view.getInt32(at);
    sketches.push(DistinctSketch.deserialize(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return DistinctSketch.union(sketches);
}

function fromStored(row: ChangedRow, seq: number): CachedRow {
  return { bytes: 0, version: row.version!, checkedAt: seq, ...valuesOf(row), usersCount: row.users_count, usersApprox: row.users_approx, userParts: row.user_parts };
}

/** The bucket of the latest minute rows among `deltas` (-Infinity: none). */
function newestMinuteOf(deltas: readonly RollupRow[]): number {
  let newest = -Infinity;
  for (const delta of deltas) if (delta.interval === 'minute' && delta.bucket > newest) newest = delta.bucket;
  return newest;
}

/**
 * What a write stores of a row's users: its whole sketch (which holds the parts the row had, so
 * they are dropped), or the batch's sketch of them as a part beside the row's (migration 033).
 */
interface UsersWrite {
  bytes: Uint8Array;
  part: boolean;
  dropsParts: boolean;
}

/**
 * The row holding `base` (undefined: none) and the batch's `delta`, merged into `base` in place,
 * and what to write of its users (undefined when the stored sketch already holds the batch's
 * users). `mayPart`: the row is a minute row the batch may add a part to.
 */
function mergeDelta(base: CachedRow | undefined, delta: RollupRow, seq: number, mayPart: boolean): { row: CachedRow; users: UsersWrite | undefined } {
  if (!base) {
    const estimate = delta.users.estimate();
    const row: CachedRow = {
      bytes: 0,
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
      userParts: 0,
    };
    return { row, users: { bytes: delta.users.serialize(), part: false, dropsParts: false } };
  }
  const row = base;
  row.version = seq;
  row.checkedAt = seq;
  row.count += delta.count;
  row.sum += delta.sum;
  if (delta.min < row.min) row.min = delta.min;
  if (delta.max > row.max) row.max = delta.max;
  if (delta.quantiles) row.quantiles = row.quantiles ? row.quantiles.merge(delta.quantiles) : delta.quantiles;
  // The cached row owns its sketch (the cache is dropped on any failure), so it may grow in place.
  const users = row.users.mergeOwned(delta.users);
  if (users === row.users) return { row, users: undefined };
  const estimate = users.estimate();
  row.users = users;
  row.usersCount = estimate.count;
  row.usersApprox = estimate.approximate;
  if (mayPart && row.userParts < MINUTE_USER_PARTS && (estimate.approximate || estimate.count >= PART_FROM_USERS)) {
    row.userParts++;
    return { row, users: { bytes: delta.users.serialize(), part: true, dropsParts: false } };
  }
  const dropsParts = row.userParts > 0;
  row.userParts = 0;
  return { row, users: { bytes: users.serialize(), part: false, dropsParts } };
}

function upsertParams(
  deltas: readonly RollupRow[],
  rows: readonly CachedRow[],
  newUsers: readonly (UsersWrite | undefined)[],
  fresh: readonly boolean[],
  seq: number,
): unknown[] {
  // One pass over the rows fills every column; the sketches go into one buffer, quantile
  // sketches first, then the users sketches.
  const n = rows.length;
  const quantiles = new Array<Uint8Array | undefined>(n);
  let quantileBytes = 0;
  let userBytes = 0;
  for (let i = 0; i < n; i++) {
    const bytes = rows[i]!.quantiles?.serialize();
    quantiles[i] = bytes;
    quantileBytes += bytes?.length ?? 0;
    userBytes += newUsers[i]?.bytes.length ?? 0;
  }
  const blob = Buffer.allocUnsafe(quantileBytes + userBytes);
  const [metric, interval, grouping, groupKey] = [new Array<string>(n), new Array<string>(n), new Array<string>(n), new Array<string>(n)];
  const [bucket, count, sum, min, max, usersCount] = [new Array<number>(n), new Array<number>(n), new Array<number>(n), new Array<number>(n), new Array<number>(n), new Array<number>(n)];
  const [qOffset, qLength, uOffset, uLength] = [new Array<number>(n), new Array<number>(n), new Array<number>(n), new Array<number>(n)];
  const approx = new Array<string>(n);
  const isFresh = new Array<string>(n);
  const [userParts, isPart, dropsParts] = [new Array<number>(n), new Array<string>(n), new Array<string>(n)];
  const [p50, p95] = [new Array<string>(n), new Array<string>(n)];
  let q = 0;
  let u = quantileBytes;
  // Copies row i's sketch (if any) into the blob at `at`, records its slice, answers the next free offset.
  const place = (bytes: Uint8Array | undefined, i: number, at: number, offsets: number[], lengths: number[]): number => {
    offsets[i] = at;
    lengths[i] = bytes?.length ?? 0;
    if (!bytes) return at;
    blob.set(bytes, at);
    return at + bytes.length;
  };
  for (let i = 0; i < n; i++) {
    const delta = deltas[i]!;
    const row = rows[i]!;
    metric[i] = delta.metric;
    interval[i] = delta.interval;
    grouping[i] = delta.grouping;
    groupKey[i] = delta.groupKey;
    bucket[i] = delta.bucket;
    count[i] = row.count;
    sum[i] = row.sum;
    min[i] = row.min;
    max[i] = row.max;
    usersCount[i] = row.usersCount;
    approx[i] = row.usersApprox ? 't' : 'f';
    isFresh[i] = fresh[i] ? 't' : 'f';
    userParts[i] = row.userParts;
    isPart[i] = newUsers[i]?.part ? 't' : 'f';
    dropsParts[i] = newUsers[i]?.dropsParts ? 't' : 'f';
    // Hour and day rows only: most rows a batch writes are minute rows, and a minute series spans
    // few enough points to read their sketches instead.
    const kept = delta.interval === 'minute' ? undefined : row.quantiles?.pointQuantiles();
    p50[i] = String(kept?.p50 ?? 'NULL');
    p95[i] = String(kept?.p95 ?? 'NULL');
    q = place(quantiles[i], i, q, qOffset, qLength);
    u = place(newUsers[i]?.bytes, i, u, uOffset, uLength);
  }
  return [
    blob,
    textArray(metric),
    textArray(interval),
    textArray(grouping),
    bareArray(bucket),
    textArray(groupKey),
    bareArray(count),
    bareArray(sum),
    bareArray(min),
    bareArray(max),
    bareArray(qOffset),
    bareArray(qLength),
    bareArray(uOffset),
    bareArray(uLength),
    bareArray(usersCount),
    bareArray(approx),
    seq,
    bareArray(isFresh),
    bareArray(p50),
    bareArray(p95),
    bareArray(userParts),
    bareArray(isPart),
    bareArray(dropsParts),
  ];
}

export class SqlRollupStore implements RollupStore {
  /** Insertion order is recency order: a row used by a batch is moved to the end. */
  private readonly cache = new Map<string, CachedRow>();
  /** The sum of the cached rows' `bytes`. */
  private cacheBytes = 0;
  /** The sequence number of this store's last committed write. */
  private lastSeq: number | undefined;
  /** The first write of the current run of consecutive writes of ours. */
  private runStart = 0;
  /** The roll-up watermark as of our last write: a batch's deltas are computed against it while the lock is taken. */
  private rolledUpTo = 0;
  /**
   * Whether the last step reached its bound of days to pack or decide. A store starts unsure: its
   * database may have been left behind (a restart, a new k).
   */
  private daysBehind = true;
  /** The write number of this store's last roll-up step. */
  private lastStepSeq: number | undefined;
  /** Writes of one store take turns (they would wait for each other's lock anyway). */
  private turn: Promise<unknown> = Promise.resolve();
  /** Series selections waiting to be read together (readSeries). */
  private pendingSeries: { plan: SeriesSelection; resolve: (rows: SeriesRow[]) => void; reject: (error: unknown) => void }[] = [];
  /**
   * The packed days' lines a decided read took (readDecidedHours), by the answer it gave: the
   * sketch read handed that answer takes its lines from here instead of reading them again.
   */
  private readonly decidedLines = new WeakMap<DecidedHours, { readonly selection: SeriesSelection; readonly until: number; readonly days: ReadonlyMap<number, DecidedDay> }>();
  /** Decided days as last read, least recently used first (DECIDED_ROWS_KEPT), by decidedDayKey. */
  private readonly decidedDays = new RecencyBoundedMap<DecidedDay>(DECIDED_ROWS_KEPT, (day) => day.rows.length);
  /** The users' feature rows, written in the same transaction as the rollups. */
  private readonly features: FeatureStateWriter;
  /** The event ids counted, by user and day, written in the same transaction. */
  private readonly eventIds: EventIdWriter;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: {
      cacheBytes?: number;
      /** The bound of the feature states kept (FEATURE_STATE_CACHE_BYTES). */
      featureCacheBytes?: number;
      /** The bound of the event id lists kept (EVENT_ID_CACHE_BYTES). */
      eventIdCacheBytes?: number;
      rollUpStepRows?: number;
      /** Bounds of a step's packing and deciding (PACK_DAYS_PER_STEP, DECIDE_DAYS_PER_STEP). */
      packDaysPerStep?: number;
      decideDaysPerStep?: number;
      /**
       * The k of metric answers: the roll-up then decides each day it packs for it, and answers of
       * that k read those decisions (DecidedHours); without it, answers decide every day.
       */
      k?: number;
      /**
       * The minute rows' retention cutoff now (epoch ms, PurgeCutoffs.minuteRollups): events of
       * minutes before it and the watermark are written to their hour and day rows only
       * (computeRollups). Without it every event gets its minute row, for the purge to delete.
       */
      minutesKeptFrom?: () => number;
    } = {},
  ) {
    this.features = new FeatureStateWriter(options.featureCacheBytes);
    this.eventIds = new EventIdWriter(options.eventIdCacheBytes);
  }

  applyEvents(events: readonly StoredEvent[]): Promise<AppliedEvents> {
    if (events.length === 0) return Promise.resolve({ applied: 0, duplicates: 0, fresh: [] });
    return this.write((tx, began) => this.apply(tx, began, events));
  }

  /**
   * One write transaction in this store's turn. `work` takes the writer lock first and reports
   * the write's number through `began`.
   */
  private write<T>(work: (tx: SqlExecutor, began: (seq: number) => void) => Promise<T>): Promise<T> {
    const result = this.turn.then(async () => {
      let seq: number | undefined;
      const began = (number: number) => {
        seq = number;
        if (this.lastSeq !== number - 1) this.runStart = number;
      };
      try {
        const value = await this.db.transaction((tx) => work(tx, began));
        this.lastSeq = seq;
        return value;
      } catch (error) {
        // Cached rows may have been merged into in place, and whether the commit happened is unknown.
        this.forget();
        this.lastSeq = undefined;
        throw error;
      }
    });
    this.turn = result.catch(() => undefined);
    return result;
  }

  private async apply(tx: SqlExecutor, began: (seq: number) => void, events: readonly StoredEvent[]): Promise<AppliedEvents> {
    // Once per subject, for the event ids and the feature rows: a batch holds several events of most of its users.
    const subjectHashes = new Map<string, string>();
    const hashOf = (subject: string): string => {
      let hash = subjectHashes.get(subject);
      if (hash === undefined) subjectHashes.set(subject, (hash = signedSubjectHash(subject)));
      return hash;
    };
    const plan = this.eventIds.plan(events, hashOf);
    const locked = tx.query<{ seq: number; rolled_up_to: number }>(LOCK_WRITER);
    // Settled here too, so a throw below cannot leave its rejection unhandled.
    locked.catch(() => undefined);
    // Computed while the database takes the lock: nearly always every event is new and the
    // watermark where it was, and otherwise the deltas are computed again.
    const guessedWatermark = this.rolledUpTo;
    const minutesKeptFrom = this.options.minutesKeptFrom?.();
    const speculative = computeRollups(plan.unique, guessedWatermark, minutesKeptFrom);
    const { seq, rolled_up_to } = (await locked).rows[0]!;
    began(seq);
    this.rolledUpTo = rolled_up_to;
    const fresh = await this.eventIds.unseen(tx, plan);
    if (fresh.length === 0) return { applied: 0, duplicates: events.length, fresh: [] };
    const deltas = fresh === plan.unique && guessedWatermark === this.rolledUpTo ? speculative : computeRollups(fresh, this.rolledUpTo, minutesKeptFrom);
    await this.fold(tx, seq, deltas);
    await this.eventIds.record(tx, plan, seq);
    const research = researchValues(fresh);
    if (research.length > 0) {
      await tx.query(INSERT_RESEARCH_VALUES, [
        research.map((row) => BigInt.asIntN(64, row.subjectHash).toString()),
        research.map((row) => row.metric),
        research.map((row) => row.occurredAt),
        research.map((row) => row.value),
        research.map((row) => row.eventId),
      ]);
    }
    await this.features.apply(tx, fresh, seq, hashOf);
    return { applied: fresh.length, duplicates: events.length - fresh.length, fresh };
  }

  /**
   * Folds the minute rows of minutes before `until` (epoch ms, minute-aligned) that are not rolled
   * up yet into the hour and day rows of every grouping, and moves the watermark past them: at
   * most ROLL_UP_SPAN_MS of minutes from the first one with rows, and ROLL_UP_STEP_ROWS minute
   * rows, so `done` says whether minutes before `until` remain. Minutes may still get events after
   * they are rolled up: the aggregator then writes those events' hour and day rows itself.
   */
  async rollUp(until: number): Promise<RollUpStep> {
    const end = bucketStart(until, 'minute');
    const { rows: current } = await this.db.query<{ rolled_up_to: number }>(READ_WATERMARK);
    if (current[0]!.rolled_up_to >= end && !this.daysBehind) return { rolledUpTo: current[0]!.rolled_up_to, minuteRows: 0, done: true };
    let stepSeq: number | undefined;
    const step = await this.write(async (tx, began): Promise<RollUpStep> => {
      const { rows } = await tx.query<{ seq: number; rolled_up_to: number }>(LOCK_WRITER);
      const { seq, rolled_up_to: from } = rows[0]!;
      began(seq);
      stepSeq = seq;
      this.rolledUpTo = from;
      // Days left to pack or decide keep the roll-up going past a caught-up watermark (after a
      // demo or an import, one step a minute left answers deciding weeks of days on every query
      // for half an hour), but only while nothing else writes: a write between two steps may be
      // an import's, which unpacks the days it touches, and packing them again after each of its
      // batches would rewrite their sketches hundreds of times.
      const keepGoing = () => this.daysBehind && (this.lastStepSeq === undefined || seq === this.lastStepSeq + 1);
      if (from >= end) {
        this.daysBehind = await this.packAndDecide(tx);
        return { rolledUpTo: from, minuteRows: 0, done: !keepGoing() };
      }
      const metrics = FINEST_GROUPINGS.map((g) => g.metric);
      const groupings = FINEST_GROUPINGS.map((g) => g.grouping);
      const { rows: first } = await tx.query<{ bucket_ms: number | null }>(FIRST_MINUTE, [textArray(metrics), textArray(groupings), from]);
      const next = first[0]!.bucket_ms;
      let to = next === null ? end : Math.min(end, Math.max(from, bucketStart(next, 'hour')) + ROLL_UP_SPAN_MS);
      let minuteRows = 0;
      if (next !== null && next < to) {
        const { rows: counts } = await tx.query<{ bucket_ms: number; rows: number }>(MINUTE_ROW_COUNTS, [textArray(metrics), textArray(groupings), next, to]);
        let held = 0;
        for (const minute of counts) {
          held += minute.rows;
          if (held > (this.options.rollUpStepRows ?? ROLL_UP_STEP_ROWS) && minute.bucket_ms > next) {
            to = minute.bucket_ms;
            break;
          }
        }
        const { rows: minutes } = await tx.query<MinuteRow>(
          `SELECT r.metric, r.grouping, r.group_key, ${BUCKET_MS}, r.count, r.sum, r.min, r.max, r.qsketch, ${MINUTE_USERS} AS users FROM ${FINEST_MINUTES}`,
          [textArray(metrics), textArray(groupings), from, to],
        );
        minuteRows = minutes.length;
        const deltas = rollUpMinutes(
          minutes.map((row) => ({ metric: row.metric, interval: 'minute', bucket: row.bucket_ms, grouping: row.grouping, groupKey: row.group_key, ...valuesOf(row) })),
        );
        if (deltas.length > 0) await this.fold(tx, seq, deltas);
      }
      await tx.query(MOVE_WATERMARK, [to]);
      this.daysBehind = await this.packAndDecide(tx);
      this.rolledUpTo = to;
      return { rolledUpTo: to, minuteRows, done: to >= end && !keepGoing() };
    });
    this.lastStepSeq = stepSeq;
    return step;
  }

  /**
   * Packs the completed days not packed yet and decides those not decided for this store's k, at
   * most a step's bound of each: whether days may be left for another step (a bound was reached).
   */
  private async packAndDecide(tx: SqlExecutor): Promise<boolean> {
    const packDays = this.options.packDaysPerStep ?? PACK_DAYS_PER_STEP;
    const { rows: packed } = await tx.query<{ metric: string; day_ms: number }>(PACK_DAYS, [textArray(STORED_GROUPINGS.map((g) => g.metric)), textArray(STORED_GROUPINGS.map((g) => g.grouping)), packDays]);
    const packedDays = new Set(packed.map((block) => `${block.metric}\u0000${block.day_ms}`)).size;
    if (this.options.k === undefined) return packedDays >= packDays;
    const decideDays = this.options.decideDaysPerStep ?? DECIDE_DAYS_PER_STEP;
    const decidedDays = await this.decidePackedDays(tx, this.options.k, decideDays);
    return packedDays >= packDays || decidedDays >= decideDays;
  }

  /**
   * Decides the release of the packed days not decided for `k`: each day's levels read as an
   * answer reads them (its blocks, in this transaction), the policy run over them, and each hour
   * block's decisions stored beside its lines.
   */
  private async decidePackedDays(tx: SqlExecutor, k: number, most: number): Promise<number> {
    const { rows: days } = await tx.query<{ metric: string; day_ms: number }>(UNDECIDED_DAYS, [k, most, textArray(FINEST_GROUPINGS.map((g) => g.metric))]);
    if (days.length === 0) return 0;
    const plans = days.map(({ metric, day_ms }) => dayDecisionPlan(metric, FINEST_GROUPINGS.find((g) => g.metric === metric)!.grouping, day_ms));
    // A statement a day, as an answer reads it: one of many days' levels is costly enough to the
    // planner's eye for PostgreSQL to JIT-compile it (seconds).
    const rows: SeriesRow[][][] = [];
    for (const plan of plans) rows.push(await this.readLevelsIn(tx, plan.levels.map((level) => level.rows)));
    const policy = metricReleasePolicy(k);
    const blocks = { metrics: [] as string[], days: [] as number[], groupings: [] as string[], released: [] as string[] };
    plans.forEach((plan, p) => {
      const levelRows = rows[p]!;
      const released = releasedRows(plan, levelRows, policy);
      plan.levels.forEach((level, l) => {
        if (level.interval !== 'hour' || levelRows[l]!.length === 0) return;
        blocks.metrics.push(days[p]!.metric);
        blocks.days.push(days[p]!.day_ms);
        blocks.groupings.push(level.grouping);
        blocks.released.push(Buffer.from(released[l]!.buffer, released[l]!.byteOffset, released[l]!.byteLength).toString('hex'));
      });
    });
    await tx.query(DECIDE_BLOCKS, [textArray(blocks.metrics), bareArray(blocks.days), textArray(blocks.groupings), textArray(blocks.released), k]);
    return days.length;
  }

  /** Merges the deltas into the rows they change and writes those, caching them as it goes. */
  private async fold(tx: SqlExecutor, seq: number, deltas: RollupRow[]): Promise<void> {
    const ids = deltas.map(rollupKeyId);
    const bases = new Array<CachedRow | undefined>(deltas.length);
    const fresh = new Array<boolean>(deltas.length).fill(false);
    const check: number[] = [];
    for (let i = 0; i < deltas.length; i++) {
      const cached = this.cache.get(ids[i]!);
      if (!cached) fresh[i] = true;
      else if (cached.checkedAt >= this.runStart) bases[i] = cached;
      else check.push(i);
    }
    if (check.length > 0) {
      const changed = await this.readChanged(tx, deltas, check, (i) => this.cache.get(ids[i]!)!.version);
      // Unchanged cached rows are current; changed ones are replaced by what the database holds.
      for (const i of check) bases[i] = this.cache.get(ids[i]!);
      for (const row of changed.rows) {
        const i = check[row.i - 1]!;
        bases[i] = row.version === null ? undefined : fromStored(row, seq);
      }
    }

    // Merged in place: the store's turn and the cache reset on failure keep a half-applied merge
    // from ever being read.
    const rows = new Array<CachedRow>(deltas.length);
    const newUsers = new Array<UsersWrite | undefined>(deltas.length);
    // Parts go to the rows of the batch's newest minute, which the next batches add to again; a
    // row of an earlier minute is written whole, folding in its parts, as its minute has passed.
    const newestMinute = newestMinuteOf(deltas);
    const mayPart = (i: number) => deltas[i]!.bucket === newestMinute && deltas[i]!.interval === 'minute';
    for (let i = 0; i < deltas.length; i++) {
      const merged = mergeDelta(bases[i], deltas[i]!, seq, mayPart(i));
      rows[i] = merged.row;
      newUsers[i] = merged.users;
    }

    const freshCount = fresh.reduce((n, f) => (f ? n + 1 : n), 0);
    const upserted = tx.query<{ inserted: number }>(UPSERT, upsertParams(deltas, rows, newUsers, fresh, seq));
    // Settled here too, so a throw below cannot leave its rejection unhandled.
    upserted.catch(() => undefined);
    // The cache is brought up to date while the database writes: should the transaction fail,
    // apply drops the whole cache, so no row of an uncommitted write is ever trusted.
    this.remember(deltas, ids, rows, newestMinute);
    const { inserted } = (await upserted).rows[0]!;
    if (inserted < freshCount) {
      // Rows we had no copy of that exist after all (another instance wrote them, or this one
      // forgot them): read what the database held, merge the batch into it and write that.
      const missed = [];
      for (let i = 0; i < deltas.length; i++) if (fresh[i]) missed.push(i);
      // What we just inserted carries this write's version and is left out.
      const existing = await this.readChanged(tx, deltas, missed, () => seq);
      const redo: number[] = [];
      for (const row of existing.rows) {
        if (row.version === null) continue;
        const i = missed[row.i - 1]!;
        const merged = mergeDelta(fromStored(row, seq), deltas[i]!, seq, mayPart(i));
        rows[i] = merged.row;
        newUsers[i] = merged.users;
        redo.push(i);
      }
      if (redo.length > 0) {
        const params = upsertParams(
          redo.map((i) => deltas[i]!),
          redo.map((i) => rows[i]!),
          redo.map((i) => newUsers[i]),
          redo.map(() => false),
          seq,
        );
        this.remember(
          redo.map((i) => deltas[i]!),
          redo.map((i) => ids[i]!),
          redo.map((i) => rows[i]!),
          newestMinute,
        );
        await tx.query(UPSERT, params);
      }
    }
  }

  purge(cutoffs: RollupPurgeCutoffs): Promise<PurgeResult> {
    return this.write(async (tx, began) => {
      // Under the writer lock and numbered, so other instances re-check the rows they cached.
      began((await tx.query<{ seq: number }>(LOCK_WRITER)).rows[0]!.seq);
      const { rows } = await tx.query<{ keys: number; minutes: number; hours: number }>(PURGE, [cutoffs.idempotencyKeys, cutoffs.minuteRollups, cutoffs.hourRollups]);
      // Rows of ours may be gone, and a cached row is trusted without a read while only we write.
      this.forget();
      return { idempotencyKeys: rows[0]!.keys, minuteRows: rows[0]!.minutes, hourRows: rows[0]!.hours };
    });
  }

  eraseSubject(subject: string, erasedAt: Date): Promise<{ eventIds: number; researchValues: number; featureRows: number; patternAssignments: number }> {
    return this.write(async (tx, began) => {
      began((await tx.query<{ seq: number }>(LOCK_WRITER)).rows[0]!.seq);
      const { rows } = await tx.query<{ ids: number; research: number; features: number; assignments: number }>(ERASE_SUBJECT, [signedSubjectHash(subject), erasedAt.getTime()]);
      return { eventIds: rows[0]!.ids, researchValues: rows[0]!.research, featureRows: rows[0]!.features, patternAssignments: rows[0]!.assignments };
    });
  }

  /** Rows of the given deltas' keys whose version is not `version(i)`, numbered 1.. in `indexes` order. */
  private readChanged(tx: SqlExecutor, deltas: readonly RollupRow[], indexes: readonly number[], version: (i: number) => number) {
    return tx.query<ChangedRow>(READ_CHANGED, [
      textArray(indexes.map((i) => deltas[i]!.metric)),
      textArray(indexes.map((i) => deltas[i]!.interval)),
      textArray(indexes.map((i) => deltas[i]!.grouping)),
      bareArray(indexes.map((i) => deltas[i]!.bucket)),
      textArray(indexes.map((i) => deltas[i]!.groupKey)),
      bareArray(indexes.map(version)),
    ]);
  }

  /**
   * Caches a fold's rows as the most recently used, evicting the least recently used beyond the
   * bound. `newestMinute`: the bucket of the batch's latest minute rows (newestMinuteOf).
   */
  private remember(deltas: readonly RollupRow[], ids: readonly string[], rows: readonly CachedRow[], newestMinute: number): void {
    const limit = this.options.cacheBytes ?? CACHE_BYTES;
    // Minute rows before the batch's last two minutes are done with (a batch of traffic from
    // the past spans many minutes, each written once): caching them would only evict the rows
    // that are written again, and make garbage of the rest.
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      // Moved to the end (most recent); a row new to the cache is simply added there. A row
      // merged in place still carries the bytes it was counted with.
      const held = this.cache.get(id);
      if (held) {
        this.cache.delete(id);
        this.cacheBytes -= held.bytes;
      }
      const delta = deltas[i]!;
      if (delta.interval === 'minute' && delta.bucket < newestMinute - INTERVAL_MS.minute) continue;
      const row = rows[i]!;
      row.bytes = ROW_BYTES + id.length + row.users.heldBytes + (row.quantiles?.heldBytes ?? 0);
      this.cache.set(id, row);
      this.cacheBytes += row.bytes;
    }
    for (const [id, row] of this.cache) {
      if (this.cacheBytes <= limit) break;
      this.cache.delete(id);
      this.cacheBytes -= row.bytes;
    }
  }

  private forget(): void {
    this.cache.clear();
    this.cacheBytes = 0;
    this.features.forget();
    this.eventIds.forget();
  }

  /** The rows this store keeps and about how many bytes they hold (bounded by `cacheBytes`). */
  cached(): { rows: number; bytes: number } {
    return { rows: this.cache.size, bytes: this.cacheBytes };
  }

  /**
   * Hour and day selections asked for in the same turn of the event loop (a query asks for every
   * level it reads at once) are read together by one statement (SERIES_LEVELS).
   */
  readSeries(plan: SeriesSelection): Promise<SeriesRow[]> {
    // Buckets come back as whole minutes after `from`.
    if (plan.from % INTERVAL_MS.minute !== 0) return Promise.reject(new Error(`a series selection starts on a minute, not at ${plan.from}`));
    if (plan.interval === 'minute') return this.readMinuteSeries(plan);
    return new Promise((resolve, reject) => {
      if (this.pendingSeries.length === 0) queueMicrotask(() => void this.readPendingSeries());
      this.pendingSeries.push({ plan, resolve, reject });
    });
  }

  private async readMinuteSeries(plan: SeriesSelection): Promise<SeriesRow[]> {
    const result = await this.db.queryArrays<MinuteReadRow>(MINUTE_SERIES(plan.values), selectionParams(plan));
    return result.rows.map((row) => minutePoint(row, plan));
  }

  private async readPendingSeries(): Promise<void> {
    const pending = this.pendingSeries;
    this.pendingSeries = [];
    try {
      const points = await this.readLevelsIn(
        this.db,
        pending.map(({ plan }) => plan),
      );
      pending.forEach(({ resolve }, level) => resolve(points[level]!));
    } catch (error) {
      for (const { reject } of pending) reject(error);
    }
  }

  /** Hour and day selections' rows, read by one statement (SERIES_LEVELS) of `executor`. */
  private async readLevelsIn(executor: SqlExecutor, plans: readonly SeriesSelection[]): Promise<SeriesRow[][]> {
    // Where each level's minutes are stored, and how their keys map onto the level's.
    const minutes = plans.map((plan) => rowSource(plan.metric, 'minute', plan.grouping));
    const chunks = plans.flatMap((plan, l) => (plan.interval === 'hour' ? hourChunks(plan).map((chunk) => ({ level: l + 1, ...chunk })) : []));
    const result = await executor.queryArrays<LevelReadRow>(SERIES_LEVELS, [
      textArray(plans.map((plan) => plan.metric)),
      textArray(plans.map((plan) => plan.interval)),
      textArray(plans.map((plan) => plan.grouping)),
      bareArray(plans.map((plan) => plan.from)),
      bareArray(plans.map((plan) => plan.to)),
      bareArray(plans.map((plan) => plan.values)),
      bareArray(plans.map((plan) => INTERVAL_MS[plan.interval])),
      textArray(minutes.map((source) => source.grouping)),
      bareArray(chunks.map((chunk) => chunk.level)),
      bareArray(chunks.map((chunk) => chunk.from)),
      bareArray(chunks.map((chunk) => chunk.to)),
    ]);
    const points = plans.map((): SeriesRow[] => []);
    const open = plans.map((): SeriesSketchRow[] => []);
    for (const row of result.rows) {
      const level = row[0] - 1;
      const plan = plans[level]!;
      if (row[1] === null) {
        unpackLines(row[12]!, row[11], plan.from + row[2] * INTERVAL_MS.minute, points[level]!);
        continue;
      }
      const { project } = minutes[level]!;
      open[level]!.push({
        bucket: bucketStart(plan.from + row[2] * INTERVAL_MS.minute, plan.interval),
        groupKey: row[1] === MINUTES && project ? project(row[3]) : row[3],
        count: row[4],
        sum: row[8],
        min: row[9],
        max: row[10],
        quantiles: row[11] ? QuantileSketch.deserialize(row[11]) : undefined,
        users: storedUsers(row[7], { count: row[5], approximate: row[6] }),
      });
    }
    // The open rows' buckets come after the completed ones'.
    points.forEach((levelPoints, level) => {
      if (open[level]!.length > 0) levelPoints.push(...projectSeriesRows(open[level]!).sort(byBucketAndKey));
    });
    return points;
  }

  async readDecidedHours(plan: SeriesSelection, k: number): Promise<DecidedHours> {
    const days: number[] = [];
    for (let day = bucketStart(plan.from, 'day'); day < plan.to; day += INTERVAL_MS.day) days.push(day);
    const keys = days.map((day) => decidedDayKey(plan, k, day));
    const held = keys.map((key) => this.decidedDays.get(key));
    const result = await this.db.queryArrays<[dayMs: number, packed: string | null, values: Uint8Array | null, released: Uint8Array | null, empty: boolean, version: string | null]>(
      DECIDED_BLOCKS,
      [plan.metric, plan.grouping, bareArray(days), k, plan.values, held.map((day) => day?.version ?? null)],
    );
    const rows: SeriesRow[] = [];
    const parts: Uint8Array[] = [];
    const daysRead = new Map<number, DecidedDay>();
    let until = days[0] ?? plan.from;
    for (const [dayMs, packed, values, released, empty, version] of result.rows) {
      // A day cut by the selection's ends is not whole.
      if (dayMs < plan.from || dayMs + INTERVAL_MS.day > plan.to) break;
      const i = (dayMs - days[0]!) / INTERVAL_MS.day;
      const kept = held[i];
      const day = kept && kept.version === version ? kept : packed !== null && released !== null && version !== null ? unpackDecidedDay(version, packed, values, released, dayMs) : undefined;
      if (!day && !empty) break;
      if (day) {
        this.decidedDays.set(keys[i]!, day);
        for (const row of day.rows) rows.push(row);
        parts.push(day.released);
        daysRead.set(dayMs, day);
      }
      until = dayMs + INTERVAL_MS.day;
    }
    const decided = { until, rows, released: Buffer.concat(parts) };
    this.decidedLines.set(decided, { selection: plan, until, days: daysRead });
    return decided;
  }

  async readSeriesSketches(plan: SeriesSelection, spans?: readonly Span[], used?: UsedRows, decided?: DecidedHours): Promise<SeriesSketchRow[]> {
    if (plan.interval === 'minute') {
      const result = await this.db.query<StoredValues & { bucket_ms: number; group_key: string }>(
        `SELECT ${BUCKET_MS}, r.group_key, r.count, r.sum, r.min, r.max, ${SKETCHES} FROM rollups r ${JOIN_SKETCHES} WHERE ${SELECTION}`,
        selectionParams(plan),
      );
      // Minute rows of a short range only, so the spread costs nothing that matters.
      return result.rows.map((row) => ({ bucket: row.bucket_ms, groupKey: row.group_key, ...valuesOf(row) }));
    }
    // Hour and day rows (summed into local days, weeks and months) with the minutes the roll-up
    // has not folded yet, as readSeries reads them.
    const minutes = rowSource(plan.metric, 'minute', plan.grouping);
    if (plan.interval === 'hour') return this.readHourSketches(plan, spans ?? [plan], minutes, used, decided);
    if (spans) throw new Error(`spans of a ${plan.interval} selection are not read`);
    const result = await this.db.queryArrays<[packed: string | null, values: Uint8Array | null, sketches: string | null]>(PACKED_SKETCHES, [...selectionParams(plan), minutes.grouping]);
    const [packed, values, sketches] = result.rows[0] ?? [null, null, null];
    if (packed === null) return [];
    return sumSketchRows(unpackSketchLines(packed, values!, sketchBytes(sketches!), plan.interval, minutes.project, used));
  }

  /**
   * Hour rows with their sketches: the packed days from their blocks, the rest from the rows
   * (HOUR_SKETCHES). Where only some rows are `used`, the packed days' lines are read first, so
   * that only the used lines' sketches are sent: those a `decided` read of this selection took
   * are not read again.
   */
  private async readHourSketches(
    plan: SeriesSelection,
    spans: readonly Span[],
    minutes: ReturnType<typeof rowSource>,
    used: UsedRows | undefined,
    decided: DecidedHours | undefined,
  ): Promise<SeriesSketchRow[]> {
    const chunks = spans.flatMap((span) => hourChunks({ from: Math.max(plan.from, span.from), to: Math.min(plan.to, span.to) }));
    const masks = used ? await this.usedLines(plan, chunks, used, decided) : new Map<number, UsedLines>();
    const result = await this.db.queryArrays<[dayMs: number | null, packed: string | null, values: Uint8Array | null, sketches: string]>(HOUR_SKETCHES, [
      plan.metric,
      plan.grouping,
      bareArray(chunks.map((chunk) => chunk.from)),
      bareArray(chunks.map((chunk) => chunk.to)),
      minutes.grouping,
      chunks.map((chunk) => masks.get(chunk.from)?.hex ?? null),
      chunks.map((chunk) => masks.get(chunk.from)?.md5 ?? null),
    ]);
    const blocks: SeriesSketchRow[] = [];
    let rest: SeriesSketchRow[] = [];
    for (const [dayMs, packed, values, base64] of result.rows) {
      const sketches = sketchBytes(base64);
      if (dayMs === null) rest = sumSketchRows(unpackSketchLines(packed!, values!, sketches, plan.interval, minutes.project, used));
      else if (packed === null) unpackBlockSketches(masks.get(dayMs)!.packed, sketches, dayMs, blocks, masks.get(dayMs)!.mask);
      else unpackBlockSketches(packed, sketches, dayMs, blocks, used);
    }
    return blocks.length === 0 ? rest : [...blocks, ...rest];
  }

  /**
   * Per packed day among the chunks, its lines and which of them are `used`, where not all are:
   * the lines `decided` holds of this selection as that read took them, the other days' read.
   */
  private async usedLines(plan: SeriesSelection, chunks: readonly { from: number; to: number }[], used: UsedRows, decided: DecidedHours | undefined): Promise<Map<number, UsedLines>> {
    const masks = new Map<number, UsedLines>();
    const addMask = (dayMs: number, packed: string, md5: () => string) => {
      const mask = usedLineMask(packed, dayMs, used);
      if (mask.includes(0)) masks.set(dayMs, { packed, md5: md5(), mask, hex: Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength).toString('hex') });
    };
    const handed = decided && this.decidedLines.get(decided);
    const read = handed && sameRows(handed.selection, plan) ? handed : undefined;
    const days: number[] = [];
    for (const chunk of chunks) {
      if (chunk.to - chunk.from !== INTERVAL_MS.day) continue;
      const day = read?.days.get(chunk.from);
      if (day) addMask(chunk.from, day.packed, day.md5);
      // A day the decided read passed without a block has no rows (a month's range often starts
      // before the data), and a day not over yet no block (PACK_DAYS packs days before the
      // watermark, which follows the writers' clocks): were one packed by a clock ahead of ours,
      // HOUR_SKETCHES would send it whole, unmasked.
      else if ((!read || chunk.from < read.selection.from || chunk.from >= read.until) && chunk.to <= Date.now()) days.push(chunk.from);
    }
    if (days.length === 0) return masks;
    const result = await this.db.queryArrays<[dayMs: number, packed: string, md5: string]>(BLOCK_LINES, [plan.metric, plan.grouping, bareArray(days)]);
    for (const [dayMs, packed, md5] of result.rows) addMask(dayMs, packed, () => md5);
    return masks;
  }
}

/** Where a store keeps a decided day of a selection's rows for `k`. */
function decidedDayKey(plan: SeriesSelection, k: number, day: number): string {
  return `${plan.metric}\u0000${plan.grouping}\u0000${plan.values}\u0000${k}\u0000${day}`;
}

function unpackDecidedDay(version: string, packed: string, values: Uint8Array | null, released: Uint8Array, dayMs: number): DecidedDay {
  const rows: SeriesRow[] = [];
  unpackLines(packed, values, dayMs, rows);
  let md5: string | undefined;
  return { version, packed, rows, released, md5: () => (md5 ??= createHash('md5').update(packed).digest('hex')) };
}

/** Whether two selections are of the same stored rows, whatever their ranges (a packed day's lines are those of its rows). */
function sameRows(a: SeriesSelection, b: SeriesSelection): boolean {
  return a.metric === b.metric && a.interval === b.interval && a.grouping === b.grouping;
}

/** A packed day's lines as read, the md5 of them, and a byte per line: 1 where its row is used. */
interface UsedLines {
  readonly packed: string;
  readonly md5: string;
  readonly mask: Uint8Array;
  readonly hex: string;
}

/**
 * A packed day's lines (minutes from the day's start, count, users count, 1 where estimated, group
 * key), one at a time, as unpackLines reads them: a key equal to the one at the same place in the
 * bucket before is that very string, so that maps hash each key once, not once a line.
 */
class BlockLines {
  minutes = 0;
  count = 0;
  usersCount = 0;
  usersApprox = false;
  groupKey = '';
  private at = 0;
  private before: string[] = [];
  private current: string[] = [];
  private minutesBefore = NaN;

  constructor(private readonly packed: string) {}

  /** Reads the next line; false after the last. */
  next(): boolean {
    const packed = this.packed;
    if (this.at >= packed.length) return false;
    this.minutes = this.whole();
    this.count = this.whole();
    this.usersCount = this.whole();
    this.usersApprox = this.whole() === 1;
    const at = this.at;
    let end = packed.indexOf('\n', at);
    if (end < 0) end = packed.length;
    if (this.minutes !== this.minutesBefore) {
      this.before = this.current;
      this.current = [];
      this.minutesBefore = this.minutes;
    }
    const guess = this.before[this.current.length];
    this.groupKey = guess !== undefined && end - at === guess.length && packed.startsWith(guess, at) ? guess : packed.slice(at, end);
    this.current.push(this.groupKey);
    this.at = end + 1;
    return true;
  }

  /** A whole number: every field before the key is one, never negative. */
  private whole(): number {
    const packed = this.packed;
    let value = 0;
    let at = this.at;
    for (let code = packed.charCodeAt(at); code >= ZERO && code <= NINE; code = packed.charCodeAt(++at)) value = value * 10 + code - ZERO;
    this.at = at + 1;
    return value;
  }
}

/** Per line of a packed day, 1 where `used` takes its row. */
function usedLineMask(packed: string, dayMs: number, used: UsedRows): Uint8Array {
  const mask: number[] = [];
  for (const line = new BlockLines(packed); line.next(); ) mask.push(used(line.groupKey, dayMs + line.minutes * INTERVAL_MS.minute) ? 1 : 0);
  return Uint8Array.from(mask);
}

/**
 * A packed day's rows with their sketches: its lines and, in the same order, each row's part of
 * `sketches`; rows `used` refuses are passed over. With a mask (a byte per line), `sketches`
 * holds the parts of the lines it keeps alone, and the other lines are passed over.
 */
function unpackBlockSketches(packed: string, sketches: Uint8Array, dayMs: number, rows: SeriesSketchRow[], used: UsedRows | Uint8Array | undefined): void {
  const view = new DataView(sketches.buffer, sketches.byteOffset, sketches.byteLength);
  const mask = used instanceof Uint8Array ? used : undefined;
  let sketchAt = 0;
  const line = new BlockLines(packed);
  for (let l = 0; line.next(); l++) {
    if (mask && mask[l] === 0) continue;
    const { groupKey, count } = line;
    const bucket = dayMs + line.minutes * INTERVAL_MS.minute;
    const usersAt = sketchAt + 28;
    const usersLength = view.getInt32(sketchAt + 24);
    const quantilesLength = view.getInt32(usersAt + usersLength);
    const quantilesAt = usersAt + usersLength + 4;
    const rowAt = sketchAt;
    sketchAt = quantilesAt + Math.max(0, quantilesLength);
    if (typeof used === 'function' && !used(groupKey, bucket)) continue;
    const [sum, min, max] = [view.getFloat64(rowAt), view.getFloat64(rowAt + 8), view.getFloat64(rowAt + 16)];
    const users = DistinctSketch.deserialize(sketches.subarray(usersAt, usersAt + usersLength), { count: line.usersCount, approximate: line.usersApprox });
    const quantiles = quantilesLength < 0 ? undefined : QuantileSketch.deserialize(sketches.subarray(quantilesAt, sketchAt));
    rows.push({ bucket, groupKey, count, sum, min, max, quantiles, users });
  }
}

/**
 * The rows of PACKED_SKETCHES: a stored row's bucket as it is, a minute's (part MINUTES) as the
 * bucket of the interval holding it, with its key projected where its grouping is finer; rows
 * `used` refuses are passed over.
 */
function unpackSketchLines(packed: string, values: Uint8Array, sketches: Uint8Array, interval: Interval, project: KeyProjection | undefined, used: UsedRows | undefined): SeriesSketchRow[] {
  const rows: SeriesSketchRow[] = [];
  const doubles = new DataView(values.buffer, values.byteOffset, values.byteLength);
  let at = 0;
  let sketchAt = 0;
  // A whole number, maybe negative (an absent sketch's length), followed by one space.
  const integer = () => {
    const end = packed.indexOf(' ', at);
    const value = Number(packed.slice(at, end));
    at = end + 1;
    return value;
  };
  for (let row = 0; at < packed.length; row++) {
    const part = integer();
    const bucketMs = integer();
    const count = integer();
    const usersLength = integer();
    const quantilesLength = integer();
    const usersCount = integer();
    const usersApprox = integer() === 1;
    let end = packed.indexOf('\n', at);
    if (end < 0) end = packed.length;
    const storedKey = packed.slice(at, end);
    at = end + 1;
    const bucket = part === 0 ? bucketMs : bucketStart(bucketMs, interval);
    const groupKey = part !== 0 && project ? project(storedKey) : storedKey;
    const [usersAt, quantilesAt] = [sketchAt, sketchAt + usersLength];
    sketchAt = quantilesAt + Math.max(0, quantilesLength);
    if (used && !used(groupKey, bucket)) continue;
    const users = storedUsers(sketches.subarray(usersAt, quantilesAt), { count: usersCount, approximate: usersApprox });
    const quantiles = quantilesLength < 0 ? undefined : QuantileSketch.deserialize(sketches.subarray(quantilesAt, sketchAt));
    const offset = row * 24;
    rows.push({
      bucket,
      groupKey,
      count,
      sum: doubles.getFloat64(offset),
      min: doubles.getFloat64(offset + 8),
      max: doubles.getFloat64(offset + 16),
      quantiles,
      users,
    });
  }
  return rows;
}
