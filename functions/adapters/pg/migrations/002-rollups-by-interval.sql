-- Rollups partitioned by interval, with the sketches of hour and day rows in a table of their own.
--
-- A 30-day hourly series (events by type: 5,655 rows) is read for every dashboard tile. Its rows
-- sat among ten times as many minute rows, and each carried its users sketch inline (up to
-- ~2 KB before TOAST moves it out). Every batch grows the current hour's sketches, so a row
-- outgrew its page and moved on update (43 % of hour-row updates were not HOT), and the series'
-- 5,655 rows ended up on 3,769 heap pages, which was most of the query's time. Hour and day rows
-- now live in partitions of their own and keep only fixed-width columns, so an update stays on
-- its page and a series read touches few pages; their sketches are kept in `rollup_sketches`,
-- written only when they change and read only by the k-anonymity gate and the aggregator.
-- Minute rows keep their sketches inline: a minute series is summed from them when read.
--
-- Queries and upserts name only `rollups`: the planner prunes to the interval's partition.
ALTER TABLE rollups RENAME TO rollups_unpartitioned;
ALTER INDEX rollups_pkey RENAME TO rollups_unpartitioned_pkey;

-- The same columns, key and checks; in hour and day rows `qsketch` is NULL and `users` empty.
CREATE TABLE rollups (LIKE rollups_unpartitioned INCLUDING ALL) PARTITION BY LIST (interval);

-- Free space on each page keeps the current bucket's updates HOT. A batch updates every current
-- hour row, and the new versions of all the rows on a page must fit beside the old ones (the old
-- are pruned only after commit): at 70 % a quarter of the hour-row updates still moved their row
-- off its page, at 50 % they stay.
CREATE TABLE rollups_minute PARTITION OF rollups FOR VALUES IN ('minute') WITH (fillfactor = 70);
CREATE TABLE rollups_hour PARTITION OF rollups (CHECK (qsketch IS NULL AND octet_length(users) = 0))
  FOR VALUES IN ('hour') WITH (fillfactor = 50);
CREATE TABLE rollups_day PARTITION OF rollups (CHECK (qsketch IS NULL AND octet_length(users) = 0))
  FOR VALUES IN ('day') WITH (fillfactor = 70);

-- The DDSketch (distributions only) and users sketch of each hour and day row of `rollups`.
CREATE TABLE rollup_sketches (
  metric text COLLATE "C" NOT NULL,
  interval text COLLATE "C" NOT NULL CHECK (interval IN ('hour', 'day')),
  grouping text COLLATE "C" NOT NULL,
  bucket timestamptz NOT NULL,
  group_key text COLLATE "C" NOT NULL,
  qsketch bytea,
  users bytea NOT NULL,
  PRIMARY KEY (metric, interval, grouping, bucket, group_key)
) WITH (fillfactor = 70);

-- Sketch bytes are hashes and bin counts: compression only costs CPU.
ALTER TABLE rollups ALTER COLUMN qsketch SET STORAGE EXTERNAL;
ALTER TABLE rollup_sketches ALTER COLUMN users SET STORAGE EXTERNAL;
ALTER TABLE rollup_sketches ALTER COLUMN qsketch SET STORAGE EXTERNAL;

-- Copied in key order: the rows of one series come out adjacent.
INSERT INTO rollups
  SELECT metric, interval, grouping, bucket, group_key, count, sum, min, max,
         CASE WHEN interval = 'minute' THEN qsketch END, p50, p95,
         CASE WHEN interval = 'minute' THEN users ELSE ''::bytea END, users_count, users_approx, version
  FROM rollups_unpartitioned ORDER BY metric, interval, grouping, bucket, group_key;
INSERT INTO rollup_sketches
  SELECT metric, interval, grouping, bucket, group_key, qsketch, users
  FROM rollups_unpartitioned WHERE interval <> 'minute' ORDER BY metric, interval, grouping, bucket, group_key;
DROP TABLE rollups_unpartitioned;
