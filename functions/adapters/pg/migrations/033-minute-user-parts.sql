-- The users a batch adds to a minute row it has written before, kept beside the row instead of
-- rewriting its whole users sketch. In live traffic every batch adds to the same current minute's
-- rows, whose sketches grow to kilobytes each: rewriting them was about 400 KB a batch of 2,000
-- events, half of PostgreSQL's CPU for the batch (bench/aggregate-throughput.ts). A part is the
-- batch's own sketch of the row's users, tens of bytes per user it saw.
-- - `user_parts` on the row: how many parts it has (0 for most rows: the read of a row looks for
--   parts only where there are some);
-- - the writer folds the parts into the row's sketch (and deletes them) once a row has
--   MINUTE_USER_PARTS of them or the row's minute is no longer the batch's newest, so a row keeps
--   a bounded number and a minute that has passed usually none.
ALTER TABLE rollups ADD COLUMN user_parts int2 NOT NULL DEFAULT 0;

CREATE TABLE rollup_minute_users (
  metric text COLLATE "C" NOT NULL,
  grouping text COLLATE "C" NOT NULL,
  bucket timestamptz NOT NULL,
  group_key text COLLATE "C" NOT NULL,
  -- rollup_writer.seq of the write that added the part.
  version int8 NOT NULL,
  users bytea NOT NULL,
  PRIMARY KEY (metric, grouping, bucket, group_key, version)
);

-- Explicit user hashes are random bytes: compression only costs CPU.
ALTER TABLE rollup_minute_users ALTER COLUMN users SET STORAGE EXTERNAL;
