-- Report runs (issue 17): a report is asked for (POST /v1/reports or a schedule), made later by
-- the report function, and may be rendered in several formats, so the index keeps each run's
-- state, period, files and deliveries instead of one finished object. Research reports made
-- before this were one CSV, made at once: they become done runs with that one file.
ALTER TABLE reports
  ADD COLUMN status text NOT NULL DEFAULT 'done' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  ADD COLUMN period jsonb,
  ADD COLUMN period_label text,
  ADD COLUMN formats text[] NOT NULL DEFAULT '{csv}',
  ADD COLUMN schedule_id text,
  ADD COLUMN test boolean NOT NULL DEFAULT false,
  ADD COLUMN release jsonb,
  ADD COLUMN version integer,
  ADD COLUMN data_through timestamptz,
  ADD COLUMN files jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN deliveries jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN progress jsonb,
  ADD COLUMN error jsonb,
  ADD COLUMN updated_at timestamptz;

UPDATE reports SET
  period = jsonb_build_object('from', parameters->>'from', 'to', parameters->>'to', 'timeZone', 'UTC', 'label', (parameters->>'from') || '--' || (parameters->>'to')),
  period_label = (parameters->>'from') || '--' || (parameters->>'to'),
  files = jsonb_build_array(jsonb_build_object('format', 'csv', 'objectKey', object_key, 'bytes', 0, 'contentType', content_type)),
  updated_at = created_at;

ALTER TABLE reports
  ALTER COLUMN period SET NOT NULL,
  ALTER COLUMN period_label SET NOT NULL,
  ALTER COLUMN updated_at SET NOT NULL,
  ALTER COLUMN status DROP DEFAULT,
  ALTER COLUMN formats DROP DEFAULT,
  DROP COLUMN object_key,
  DROP COLUMN content_type;

-- Versions of a kind and period are handed out by this table, so two runs never share one.
CREATE TABLE report_versions (
  kind text NOT NULL,
  period_label text NOT NULL,
  last_version integer NOT NULL,
  PRIMARY KEY (kind, period_label)
);
INSERT INTO report_versions (kind, period_label, last_version)
  SELECT kind, period_label, count(*) FROM reports GROUP BY kind, period_label;
UPDATE reports SET version = 1 WHERE version IS NULL AND status = 'done';

CREATE INDEX reports_by_kind_and_time ON reports (kind, created_at DESC, id DESC);

-- Report schedules (PUT /v1/report-schedules replaces the set). Recipients are staff addresses,
-- kept here only: runs and logs count them, never name them.
CREATE TABLE report_schedules (
  id text PRIMARY KEY,
  kind text NOT NULL,
  cron text NOT NULL,
  time_zone text NOT NULL,
  period text NOT NULL,
  formats text[] NOT NULL,
  recipients text[] NOT NULL,
  enabled boolean NOT NULL,
  position integer NOT NULL
);

-- One mailing per (schedule, period), whatever the retries and repeated firings: a run claims it
-- before mailing; a failed mailing gives the claim back for the next attempt.
CREATE TABLE report_mailings (
  schedule_id text NOT NULL,
  period_label text NOT NULL,
  report_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
  PRIMARY KEY (schedule_id, period_label)
);
