-- Per-user behaviour features (DESIGN.md "Behaviour analysis"): one row per pseudonymous user,
-- kept by the aggregate in the transaction that counts the events (so a redelivered batch adds
-- nothing), keyed by the same 64-bit subject hash as the processed event ids, which erasure
-- deletes by. `state` holds sums and extremes (functions/domain/behaviour/features.ts), no id.
CREATE TABLE user_features (
  subject_hash int8 PRIMARY KEY,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
