-- The embedded mode's stand-ins for Kinesis, the poller's checkpoints and the SQS on-failure
-- destination. Kept in the database so an event answered with 202 survives a crash.

CREATE TABLE stream_records (
  sequence bigserial PRIMARY KEY,
  stream text NOT NULL,
  shard_id text NOT NULL,
  partition_key text NOT NULL,
  data bytea NOT NULL,
  arrived_at timestamptz NOT NULL DEFAULT now()
);

-- Every read is "this shard, after this sequence number, oldest first".
CREATE INDEX stream_records_by_shard ON stream_records (stream, shard_id, sequence);

CREATE TABLE checkpoints (
  consumer text NOT NULL,
  shard_id text NOT NULL,
  sequence text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, shard_id)
);

CREATE TABLE dead_letters (
  id bigserial PRIMARY KEY,
  letter jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
