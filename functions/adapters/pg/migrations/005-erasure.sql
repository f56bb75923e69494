-- Erasure (DELETE /v1/users/{userId}/data). Each processed event id now carries the 64-bit hash
-- of its subject (functions/domain/rollups/distinct-sketch.ts memberHash), so a user's ids can be
-- found and deleted; ids recorded before this migration have none and age out with retention.
-- No index: an erasure is rare and may scan, while every batch would pay for an index.
ALTER TABLE rollup_processed_events ADD COLUMN subject_hash int8;

-- Subjects erased, and when: an event of theirs received before that moment (still in the
-- stream, or replayed from it) is dropped by the aggregator instead of bringing their data back.
-- Kept as long as event ids are, after which no such event can arrive.
CREATE TABLE erased_subjects (
  subject_hash int8 PRIMARY KEY,
  erased_at timestamptz NOT NULL
);
