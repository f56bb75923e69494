-- Alert rules stored by PUT /v1/alert-rules. The defaults live in the code; a row with a
-- default's id replaces that default, so a safety trigger can be tuned or disabled without a deploy.
CREATE TABLE alert_rules (
  id text PRIMARY KEY,
  body jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL
);

-- The state of each rule's condition per subject (a pseudonymous user id or a series key).
-- `version` makes writes optimistic: of two invocations on the same records one writes.
-- The other columns copy parts of `state` that the scheduled tick selects on.
CREATE TABLE alert_conditions (
  rule_id text NOT NULL,
  subject_kind text NOT NULL CHECK (subject_kind IN ('user', 'series')),
  subject_id text NOT NULL,
  version integer NOT NULL,
  state jsonb NOT NULL,
  pending boolean NOT NULL,
  active boolean NOT NULL,
  last_at timestamptz,
  at_risk_since timestamptz,
  at_risk_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, subject_kind, subject_id)
);
CREATE INDEX alert_conditions_pending ON alert_conditions (rule_id) WHERE pending;
CREATE INDEX alert_conditions_active ON alert_conditions (rule_id) WHERE active;
CREATE INDEX alert_conditions_quiet ON alert_conditions (rule_id, last_at) WHERE NOT active;
CREATE INDEX alert_conditions_at_risk ON alert_conditions (at_risk_until) WHERE at_risk_until IS NOT NULL;
CREATE INDEX alert_conditions_by_subject ON alert_conditions (subject_kind, subject_id);
