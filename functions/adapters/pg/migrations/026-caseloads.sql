-- Clinicians' caseloads (issue 18): the users each clinician looks after, by subject key
-- (`user:<pseudonym>`, pseudonymised on arrival; never a raw id). A clinician token's `sub` is
-- the clinician id: such a caller lists and acknowledges only the alerts of these users.
CREATE TABLE clinician_users (
  clinician_id text NOT NULL,
  subject text NOT NULL,
  assigned_at timestamptz NOT NULL,
  PRIMARY KEY (clinician_id, subject)
);
CREATE INDEX clinician_users_subject ON clinician_users (subject);
