-- A packed day's sketches as an array of one element per line of `packed` (issue 14), each the
-- bytes migration 019 wrote for the line. A filter of two platforms of three reads a month of
-- the hour cells by type and platform, yet sums only the selected ones: the whole blocks' 3.8 MB
-- of sketches were sent a query (7.6 MB of hex), and decoding and collecting them was much of its
-- 100 ms of CPU. By element, the statement sends only the lines the answer uses.
ALTER TABLE rollup_hour_blocks ADD COLUMN line_sketches bytea[];
-- Hashes are random bytes: compressing them only costs the roll-up time.
ALTER TABLE rollup_hour_blocks ALTER COLUMN line_sketches SET STORAGE EXTERNAL;

-- The days packed before this migration, as the roll-up packs a day (see 019 for the lateral
-- probe). The old column is emptied in the same update: a dropped column's values stay in the
-- rows that hold them, and would keep the old 42 MB of 1,000,000 events until each day is packed again.
UPDATE rollup_hour_blocks b SET sketches = NULL, line_sketches = (
  SELECT array_agg(float8send(r.sum) || float8send(r.min) || float8send(r.max)
      || int4send(octet_length(COALESCE(s.users, r.users))) || COALESCE(s.users, r.users)
      || int4send(COALESCE(octet_length(COALESCE(s.qsketch, r.qsketch)), -1)) || COALESCE(s.qsketch, r.qsketch, ''::bytea)
    ORDER BY r.bucket, r.group_key)
  FROM rollups r
  LEFT JOIN LATERAL (
    SELECT s.users, s.qsketch FROM rollup_sketches s
    WHERE s.metric = r.metric AND s.interval = r.interval AND s.grouping = r.grouping AND s.bucket = r.bucket AND s.group_key = r.group_key OFFSET 0
  ) s ON true
  WHERE r.metric = b.metric AND r.interval = 'hour' AND r.grouping = b.grouping AND r.bucket >= b.day AND r.bucket < b.day + interval '24 hours'
)
WHERE b.sketches IS NOT NULL;

ALTER TABLE rollup_hour_blocks DROP COLUMN sketches;
ALTER TABLE rollup_hour_blocks RENAME COLUMN line_sketches TO sketches;
