-- Interventions recommended to the app (issue 18): one row per rule and event, for the
-- effectiveness figures, the erasure of a user and retention. No channel token: only the stream
-- and the message to the app hold it.
CREATE TABLE interventions (
  id uuid PRIMARY KEY,
  rule_id text NOT NULL,
  subject text NOT NULL,
  event_id uuid NOT NULL,
  intervention_type text NOT NULL,
  urgency text NOT NULL,
  recommended_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('sent', 'no_channel', 'failed')),
  sender text,
  attempts integer NOT NULL,
  sent_at timestamptz
);
CREATE INDEX interventions_subject ON interventions (subject, recommended_at DESC);
CREATE INDEX interventions_recommended_at ON interventions (recommended_at);
