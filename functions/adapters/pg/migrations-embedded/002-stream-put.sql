-- A put of records as one statement: the lock, the sequence numbers and the INSERT run in one
-- (implicit) transaction, so a writer needs one round trip instead of BEGIN, lock, INSERT and
-- COMMIT. Data travels as base64 text: PGlite binds a text[] much faster than a bytea[].
CREATE FUNCTION stream_put(p_stream text, p_shard_ids text[], p_partition_keys text[], p_data text[])
RETURNS SETOF bigint
LANGUAGE plpgsql
AS $$
BEGIN
  -- Writers take turns per stream, so sequence numbers become visible in commit order: the lock is
  -- held until the calling transaction commits, after this function has returned. Otherwise a
  -- reader could checkpoint past a number a slower writer has yet to commit.
  PERFORM pg_advisory_xact_lock(hashtext('stream:' || p_stream));
  -- One INSERT: when it commits, every record of the call is durable at once. nextval() in the
  -- select list runs after ORDER BY, so sequences follow input order.
  RETURN QUERY
    INSERT INTO stream_records (sequence, stream, shard_id, partition_key, data)
    SELECT nextval(pg_get_serial_sequence('stream_records', 'sequence')), p_stream, r.shard_id, r.partition_key, decode(r.data, 'base64')
    FROM unnest(p_shard_ids, p_partition_keys, p_data) WITH ORDINALITY AS r(shard_id, partition_key, data, ordinal)
    ORDER BY r.ordinal
    RETURNING stream_records.sequence;
END
$$;
