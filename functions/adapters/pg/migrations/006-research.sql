-- The research dataset: one row per value a research-consented event gives a metric, under the
-- 64-bit hash of the user's pseudonym, so a release can bound each user's contribution (which
-- the rollups, summed over users, cannot). Written by the aggregator with the rollups, erased
-- with the user, and kept as long as hour rollups.
CREATE TABLE research_values (
  subject_hash int8 NOT NULL,
  metric text COLLATE "C" NOT NULL,
  occurred_at timestamptz NOT NULL,
  value double precision NOT NULL,
  event_id uuid NOT NULL
);
CREATE INDEX research_values_by_metric ON research_values (metric, occurred_at);

-- The privacy budget's ledger: every differentially private release, who made it, what it was
-- and what it spent. A dataset's budget is spent by sequential composition: the sum of the
-- releases' epsilon and delta may not pass it.
CREATE TABLE privacy_ledger (
  id bigserial PRIMARY KEY,
  dataset text NOT NULL,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  role text NOT NULL,
  release jsonb NOT NULL,
  epsilon numeric NOT NULL CHECK (epsilon > 0),
  delta numeric NOT NULL CHECK (delta >= 0 AND delta < 1)
);
CREATE INDEX privacy_ledger_by_dataset ON privacy_ledger (dataset, id);
