-- Behaviour patterns (DESIGN.md "Behaviour analysis"): what each fit of the pattern models found,
-- a row per model version and a row per pattern. Aggregates over people only: a pattern holds
-- counts and a profile, no subject, so erasure has nothing here to remove. Readers take the newest
-- version; the fit keeps a few older ones to compare with.
CREATE TABLE behavior_pattern_models (
  version text PRIMARY KEY,
  trained_at timestamptz NOT NULL,
  users integer NOT NULL CHECK (users >= 0),
  k integer NOT NULL CHECK (k >= 0),
  silhouette double precision
);
CREATE INDEX behavior_pattern_models_by_time ON behavior_pattern_models (trained_at DESC);

CREATE TABLE user_behavior_patterns (
  version text NOT NULL REFERENCES behavior_pattern_models (version) ON DELETE CASCADE,
  id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('archetype', 'sequence')),
  -- Distinct users the pattern covers, which the release gate is applied to.
  users integer NOT NULL CHECK (users >= 0),
  position integer NOT NULL,
  pattern jsonb NOT NULL,
  PRIMARY KEY (version, id)
);
