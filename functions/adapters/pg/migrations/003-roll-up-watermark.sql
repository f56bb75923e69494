-- Hour and day rows are folded from minute rows by the roll-up instead of being rewritten by
-- every batch (see functions/domain/rollups/rollup.ts). `rolled_up_to` is the roll-up's
-- watermark: hour and day rows hold exactly the events of the minutes before it, and the minute
-- rows from it on are still to be folded. It moves under the writer lock only, so every
-- aggregator knows whether an event's minute is already rolled up (then it writes that event's
-- hour and day rows itself).
ALTER TABLE rollup_writer ADD COLUMN rolled_up_to timestamptz NOT NULL DEFAULT to_timestamp(0);

-- Minute series of coarser groupings are summed from the finest grouping's rows, which the total
-- rows only repeated (every metric has a dimension).
DELETE FROM rollups WHERE interval = 'minute' AND grouping = '';

-- Until now every batch wrote its hour and day rows: everything already stored is rolled up.
UPDATE rollup_writer SET rolled_up_to = COALESCE(
  (SELECT max(bucket) + interval '1 minute' FROM rollups WHERE interval = 'minute'),
  to_timestamp(0));
