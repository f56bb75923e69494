-- Stored cohort definitions (DESIGN.md "Behaviour analysis"). A definition selects users by the
-- facts of their feature rows (first seen, platform), so it holds no user and erasure has nothing
-- to remove here; members are found on each read, from the feature rows that exist then.
CREATE TABLE cohorts (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX cohorts_in_order ON cohorts (created_at, id);
