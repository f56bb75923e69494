-- Each completed UTC day's hour rows of one grouping of a metric, packed as a series read sends
-- them (see SERIES_LEVELS in sql-rollup-store.ts), minutes counted from the day's start.
--
-- A 30-day hourly series by two dimensions is ~16,500 hour rows, and formatting them into the
-- packed text was most of PostgreSQL's time for a query (25-33 ms of the 65 ms it spent reading
-- events by type and platform): read from 30 blocks, the same text takes 2-4 ms. A block holds
-- only what its rows held when the roll-up packed it: every write to an hour row of a day deletes
-- that day's blocks of the metric (late and imported events), and the roll-up packs them again.
-- 3.4 MB with its index for the 190,000 hour rows of 1,000,000 events: about 3.5 bytes an event.
CREATE TABLE rollup_hour_blocks (
  metric text COLLATE "C" NOT NULL,
  day timestamptz NOT NULL,
  grouping text COLLATE "C" NOT NULL,
  -- A line per hour row in bucket and key order: minutes from `day`, count, users_count,
  -- users_approx as 0 or 1, group_key.
  packed text NOT NULL,
  -- Per row, sum, min, max, p50 and p95 as float8send writes them (a NULL quantile as NaN);
  -- NULL where the rows hold no quantiles (counters), whose series never read these.
  packed_values bytea,
  PRIMARY KEY (metric, day, grouping)
);
