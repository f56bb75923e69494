-- Outcome prediction (DESIGN.md "Behaviour analysis"): each trained model version with its
-- quality on held-out users and its live accuracy, and per version the predictions of each
-- cohort as aggregates. No row names or scores a user: individual probabilities are never stored.
CREATE TABLE outcome_models (
  version text PRIMARY KEY,
  outcome text NOT NULL,
  trained_at timestamptz NOT NULL,
  model jsonb NOT NULL,
  live jsonb
);

CREATE INDEX outcome_models_latest ON outcome_models (outcome, trained_at DESC);

CREATE TABLE outcome_predictions (
  version text NOT NULL REFERENCES outcome_models (version) ON DELETE CASCADE,
  cohort text NOT NULL,
  users integer NOT NULL,
  probability double precision NOT NULL,
  ci95_low double precision NOT NULL,
  ci95_high double precision NOT NULL,
  known integer NOT NULL,
  actual double precision,
  PRIMARY KEY (version, cohort)
);
