-- The index of generated reports: what each is, who asked for it, and where its file is (the
-- report bucket in AWS, DATA_DIR/reports locally). The files expire by the bucket's lifecycle.
CREATE TABLE reports (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  role text NOT NULL,
  parameters jsonb NOT NULL,
  summary jsonb NOT NULL,
  object_key text NOT NULL,
  content_type text NOT NULL
);
CREATE INDEX reports_by_time ON reports (created_at DESC);
