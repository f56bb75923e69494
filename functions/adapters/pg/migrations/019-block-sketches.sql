-- Each packed day's sketches beside its lines (issue 14). A point that sums cells (a filter of
-- several values of a dimension not grouped by, a day or week of a zone other than UTC) shows
-- the users of a union, so it reads every summed hour row's sketches: for 30 days of events by
-- type and platform, 16,500 index probes into rollup_sketches, most of PostgreSQL's 250 ms for
-- the query. From the block, a day is one row. Written by the roll-up as it packs the day, and
-- deleted with the block when the day's hour rows change, as the lines are.
ALTER TABLE rollup_hour_blocks
  -- Per line of `packed`, in its order: sum, min and max as float8send writes them, the users
  -- sketch's length (int4send) and bytes, the quantile sketch's length (-1: none) and bytes.
  ADD COLUMN sketches bytea;
-- Hashes are random bytes: compressing them only costs the roll-up time.
ALTER TABLE rollup_hour_blocks ALTER COLUMN sketches SET STORAGE EXTERNAL;

-- The days packed before this migration, as the roll-up packs a day: each sketch found by its
-- whole key (a lateral probe, kept so by OFFSET 0), since PGlite keeps no statistics and as a
-- plain join it read every sketch once per block.
UPDATE rollup_hour_blocks b SET sketches = (
  SELECT string_agg(float8send(r.sum) || float8send(r.min) || float8send(r.max)
      || int4send(octet_length(COALESCE(s.users, r.users))) || COALESCE(s.users, r.users)
      || int4send(COALESCE(octet_length(COALESCE(s.qsketch, r.qsketch)), -1)) || COALESCE(s.qsketch, r.qsketch, ''::bytea), ''::bytea
    ORDER BY r.bucket, r.group_key)
  FROM rollups r
  LEFT JOIN LATERAL (
    SELECT s.users, s.qsketch FROM rollup_sketches s
    WHERE s.metric = r.metric AND s.interval = r.interval AND s.grouping = r.grouping AND s.bucket = r.bucket AND s.group_key = r.group_key OFFSET 0
  ) s ON true
  WHERE r.metric = b.metric AND r.interval = 'hour' AND r.grouping = b.grouping AND r.bucket >= b.day AND r.bucket < b.day + interval '24 hours'
);
