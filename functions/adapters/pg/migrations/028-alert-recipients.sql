-- Two tiers of alerting (issue 18): pages for what needs someone now, the rest in a worklist and
-- a digest e-mail at a time each recipient (a clinician, or the on-call route as '*on-call')
-- chooses. `preferences` NULL: the defaults. `next_digest_at` is the compare-and-set of a digest:
-- of the ticks that find it due, the one that moves it on sends it.
CREATE TABLE alert_recipients (
  recipient text PRIMARY KEY,
  preferences jsonb,
  next_digest_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX alert_recipients_due ON alert_recipients (next_digest_at);

-- Warning pages taken per recipient and local day, against their cap.
CREATE TABLE alert_warning_pages (
  recipient text NOT NULL,
  day date NOT NULL,
  pages integer NOT NULL,
  PRIMARY KEY (recipient, day)
);

-- Alerts waiting for a recipient's next digest; `digest_id` once a digest took them. Erased and
-- purged with their alert.
CREATE TABLE alert_digest_items (
  recipient text NOT NULL,
  alert_id text NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  queued_at timestamptz NOT NULL,
  digest_id text,
  PRIMARY KEY (recipient, alert_id)
);
CREATE INDEX alert_digest_items_alert ON alert_digest_items (alert_id);

-- Each digest sent, by count only: what the before/after alert volumes are counted from.
CREATE TABLE alert_digests (
  id text PRIMARY KEY,
  recipient text NOT NULL,
  due_at timestamptz NOT NULL,
  alerts integer NOT NULL,
  status text CHECK (status IN ('delivered', 'undelivered', 'empty')),
  sent_at timestamptz
);
CREATE INDEX alert_digests_due ON alert_digests (due_at);
