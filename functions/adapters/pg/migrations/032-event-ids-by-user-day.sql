-- The event ids the rollups have counted, one row per user (the 64-bit subject hash erasure
-- deletes by) and UTC day the events occurred (epoch day number), instead of one row per event:
-- an event sent again carries the same user, id and time, so its day's list is where to look, and
-- a batch writes a row per user and day it touches. The per-event row with its random-uuid index
-- entry was a fifth of the aggregate's CPU per event (bench/aggregate-throughput.ts).
-- - `ids`: the ids' 16 bytes each, in the order they were counted;
-- - `version`: the rollup writer's number of the write that last added to the list, which a writer
--   compares with the version it holds (as user_features);
-- - `processed_at`: when ids were last added; the purge drops the lists not added to within the
--   retention of event ids, so every id is kept at least that long after it was counted.
CREATE TABLE rollup_event_ids (
  subject_hash int8 NOT NULL,
  day int4 NOT NULL,
  ids bytea NOT NULL,
  version int8 NOT NULL,
  processed_at timestamptz NOT NULL,
  PRIMARY KEY (subject_hash, day)
);

-- The ids counted before this migration, whose day is not known: one list per user under day -1,
-- which the aggregate reads beside the user's days until the purge has taken them all. Ids
-- without a user were recorded before migration 005 and are past their retention wherever the
-- purge has run.
INSERT INTO rollup_event_ids (subject_hash, day, ids, version, processed_at)
SELECT subject_hash, -1, string_agg(uuid_send(event_id), ''::bytea ORDER BY processed_at), 0, max(processed_at)
FROM rollup_processed_events WHERE subject_hash IS NOT NULL GROUP BY subject_hash;
CREATE INDEX rollup_event_ids_undated ON rollup_event_ids (subject_hash) WHERE day = -1;

DROP TABLE rollup_processed_events;
