-- The alert lifecycle (functions/use-cases/alert-manager.ts). One open alert per fingerprint
-- (rule + subject): a repeat signal finds it through the partial unique index and updates it; a
-- firing after resolution opens a new alert. `routing` is the rule's routing when it last fired,
-- so the scheduled tick can repeat and escalate without the rules.
CREATE TABLE alerts (
  id text PRIMARY KEY,
  fingerprint text NOT NULL,
  rule text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('critical', 'warning')),
  status text NOT NULL CHECK (status IN ('firing', 'acknowledged', 'resolved')),
  subject text NOT NULL,
  labels jsonb NOT NULL,
  summary text NOT NULL,
  routing jsonb NOT NULL,
  starts_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  resolved_at timestamptz,
  acknowledged_by text,
  acknowledged_at timestamptz,
  escalated_at timestamptz,
  -- The claim of the last firing or repeat notification: the compare-and-set that makes it one
  -- per repeat interval, whoever and however many try.
  last_notified_at timestamptz
);
CREATE UNIQUE INDEX alerts_open_fingerprint ON alerts (fingerprint) WHERE status <> 'resolved';
CREATE INDEX alerts_newest ON alerts (starts_at DESC, id DESC);
CREATE INDEX alerts_subject ON alerts (subject);
CREATE INDEX alerts_firing ON alerts (starts_at) WHERE status = 'firing';

-- One row per claimed notification of one alert; `outcomes` (one per channel) is NULL until the
-- sender records them, so a claim left without outcomes (a crash) can be taken over. `sent`:
-- whether any channel was tried rather than silenced, which decides a 'resolved' notification.
CREATE TABLE alert_notifications (
  id text PRIMARY KEY,
  alert_id text NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('firing', 'repeat', 'resolved', 'escalation')),
  claimed_at timestamptz NOT NULL,
  outcomes jsonb,
  sent boolean
);
-- Belt and braces to the compare-and-set: an alert fires, resolves and escalates once.
CREATE UNIQUE INDEX alert_notifications_once ON alert_notifications (alert_id, kind) WHERE kind <> 'repeat';
CREATE INDEX alert_notifications_alert ON alert_notifications (alert_id, claimed_at);
CREATE INDEX alert_notifications_pending ON alert_notifications (claimed_at) WHERE outcomes IS NULL;

CREATE TABLE silences (
  id text PRIMARY KEY,
  matchers jsonb NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  comment text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  expired_by text,
  CHECK (ends_at >= starts_at)
);
CREATE INDEX silences_ends_at ON silences (ends_at);
