-- The aggregate writes a user's whole feature state on every batch with an event of theirs and,
-- keeping the states it wrote, reads back only those another writer changed since:
-- - `json`, not `jsonb`: the state is always written and read whole, never searched inside on the
--   write path, and building jsonb's binary form on each write (and text from it on each read) was
--   about a sixth of the aggregate's CPU per event on both sides (bench/aggregate-throughput.ts);
--   cohorts' few field reads work on json alike;
-- - `version`: the rollup writer's number of the write that stored the row (rows written
--   before it: 0), which a writer compares with the version it holds.
ALTER TABLE user_features ALTER COLUMN state TYPE json USING state::json, ADD COLUMN version int8 NOT NULL DEFAULT 0;
