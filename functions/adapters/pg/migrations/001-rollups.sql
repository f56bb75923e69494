-- Event ids the aggregator has folded into the rollups: a replayed or retried stream batch finds
-- its ids here and changes nothing (at-least-once delivery made exactly-once for the figures).
CREATE TABLE rollup_processed_events (
  event_id uuid PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);

-- The aggregators' write sequence: one row, incremented first thing by every applying
-- transaction. Its row lock serialises the appliers (read-merge-write of in-memory sketches) and
-- is released by commit or rollback, never leaked; the value numbers the committed writes, so a
-- rollup row's `version` says which write last changed it and an aggregator can tell whether its
-- cached copy of a row is still current.
CREATE TABLE rollup_writer (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  seq bigint NOT NULL
);
INSERT INTO rollup_writer (seq) VALUES (0);

-- One row per metric, interval, bucket and group, for every subset of the metric's dimensions
-- (`grouping`: the dimension names sorted and comma-separated, '' for the total; `group_key`:
-- the JSON array of their values). Counters count each event as value 1.
-- Key texts compare bytewise (COLLATE "C"): every write probes the primary key ~1,500 times a
-- batch, and nothing needs a linguistic order of metric names or JSON group keys.
CREATE TABLE rollups (
  metric text COLLATE "C" NOT NULL,
  interval text COLLATE "C" NOT NULL CHECK (interval IN ('minute', 'hour', 'day')),
  grouping text COLLATE "C" NOT NULL,
  bucket timestamptz NOT NULL,
  group_key text COLLATE "C" NOT NULL,
  count bigint NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  -- DDSketch (distributions only) and the distinct-users sketch; formats in functions/domain/rollups.
  qsketch bytea,
  -- The DDSketch's median and 95th percentile, kept at write time so a long series is read
  -- without deserialising a sketch per point (distributions, hour and day rows only).
  p50 double precision,
  p95 double precision,
  users bytea NOT NULL,
  -- The users sketch's estimate, so a point is read without its sketch.
  users_count integer NOT NULL,
  users_approx boolean NOT NULL,
  -- rollup_writer.seq of the write that last changed the row.
  version bigint NOT NULL,
  -- Column order serves the queries too: a series reads (metric, interval, grouping) over a
  -- bucket range, so no second index is kept up to date on the write path.
  PRIMARY KEY (metric, interval, grouping, bucket, group_key)
)
-- Every batch rewrites its current rows; free space on the page keeps those updates HOT (no
-- index entry per update), since no indexed column ever changes.
WITH (fillfactor = 70);

-- Explicit user hashes are random bytes: compression only costs CPU.
ALTER TABLE rollups ALTER COLUMN users SET STORAGE EXTERNAL;
