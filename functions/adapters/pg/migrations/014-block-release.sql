-- Each packed day's release decisions (issue 14). A query by three dimensions read 16 levels of
-- cells to decide its own (building the release table was 40 % of its CPU), yet every partition
-- the release policy sets a cell against (the cell's day, the cell without one of its dimensions)
-- lies in the cell's own UTC day, so a whole day's decisions depend on that day's cells alone.
-- The roll-up decides them once when it packs the day; a query reads them with the block, and
-- decides only the days not packed. A block's decisions hold for the k they were made with.
ALTER TABLE rollup_hour_blocks
  -- One byte per line of `packed`, 1 where the release policy lets that cell out.
  ADD COLUMN released bytea,
  ADD COLUMN released_k int4;
