-- Which stream a checkpoint was taken on (the reader's streamId()). A stream deleted and created
-- again under its name (an emulator restarted empty) numbers its records from 1 again, so a
-- checkpoint of the earlier stream would skip the new one's first records. Empty on checkpoints
-- taken before this column: those are trusted, as they were.
ALTER TABLE checkpoints ADD COLUMN stream_id text;
