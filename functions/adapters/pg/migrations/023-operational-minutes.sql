-- The ingest minutes the operational report reads (issue 17): CloudWatch keeps one-minute data
-- for 15 days and the local runtime's counters 25 hours, so a month's report found most of its
-- days without requests. The series watch keeps each minute it reads here, once settled; the
-- purge deletes them with the hour rollups. A minute with neither errors nor requests has no row.
CREATE TABLE operational_minutes (
  minute timestamptz PRIMARY KEY,
  ingest_errors float8,
  ingest_latency_p95_ms float8
);
