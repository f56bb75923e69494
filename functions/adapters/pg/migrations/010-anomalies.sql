-- The series watch: each detector's state per metric series between invocations, and the points
-- the detectors flagged (GET /v1/anomalies). last_minute makes a save conditional: two
-- invocations that took in the same minutes cannot both advance a state.
CREATE TABLE detector_states (
  series text NOT NULL,
  detector text NOT NULL,
  state jsonb NOT NULL,
  last_minute timestamptz NOT NULL,
  PRIMARY KEY (series, detector)
);

-- users: distinct users of the minute's events, so the route can hold back anomalies of minutes
-- with fewer than k users; NULL for operational series (ingest errors, latency), which carry none.
CREATE TABLE anomalies (
  series text NOT NULL,
  detector text NOT NULL,
  t timestamptz NOT NULL,
  name text NOT NULL,
  labels jsonb NOT NULL,
  value float8 NOT NULL,
  expected float8 NOT NULL,
  score float8 NOT NULL,
  direction text NOT NULL,
  users int4,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (series, detector, t)
);
CREATE INDEX anomalies_by_time ON anomalies (t DESC);
