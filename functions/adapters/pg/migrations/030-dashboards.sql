-- Saved dashboards (DESIGN.md "Dashboards", issue 19): staff configuration. `owner` is the token
-- subject of the staff member who made it; the widgets hold metric queries and places on a grid,
-- no figure and no user, so erasure has nothing here. `version` is the compare-and-set of a save:
-- an UPDATE names the version it was made from, and of two made from the same one only the first
-- finds it. The ready-made dashboards are code (functions/domain/dashboards/ready-made.ts).
CREATE TABLE dashboards (
  id uuid PRIMARY KEY,
  title text NOT NULL,
  owner text NOT NULL,
  shared_with text[] NOT NULL,
  widgets jsonb NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX dashboards_by_owner ON dashboards (owner, created_at);
