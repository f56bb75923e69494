-- The effectiveness figures (issue 18): whether a recommendation was followed by the intervention
-- completed (or, for a check-in, a mood report) and the person's mood before and after it. Kept
-- with the recommendation, erased and purged with it.
ALTER TABLE interventions ADD COLUMN followed_at timestamptz;
ALTER TABLE interventions ADD COLUMN mood_before double precision;
ALTER TABLE interventions ADD COLUMN mood_before_at timestamptz;
ALTER TABLE interventions ADD COLUMN mood_after double precision;

-- Each safety-monitored user's last mood report, for the mood before their next recommendation:
-- one row per user, kept a week (functions/domain/alerting/intervention-effectiveness.ts), erased
-- with the user.
CREATE TABLE subject_moods (
  subject text PRIMARY KEY,
  valence double precision NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX subject_moods_at ON subject_moods (at);
