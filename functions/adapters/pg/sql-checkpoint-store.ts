import type { Checkpoint, CheckpointStore } from '../../ports';
import type { SqlDatabase } from './database';

/** The poller's per-shard positions, in the embedded (or any) PostgreSQL. */
export class SqlCheckpointStore implements CheckpointStore {
  constructor(private readonly db: SqlDatabase) {}

  async get(consumer: string, shardId: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.db.query<{ sequence: string; stream_id: string | null }>(
      'SELECT sequence, stream_id FROM checkpoints WHERE consumer = $1 AND shard_id = $2',
      [consumer, shardId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.stream_id === null ? { sequenceNumber: row.sequence } : { sequenceNumber: row.sequence, streamId: row.stream_id };
  }

  async set(consumer: string, shardId: string, checkpoint: Required<Checkpoint>): Promise<void> {
    await this.db.query(
      `INSERT INTO checkpoints (consumer, shard_id, sequence, stream_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (consumer, shard_id) DO UPDATE SET sequence = EXCLUDED.sequence, stream_id = EXCLUDED.stream_id, updated_at = now()`,
      [consumer, shardId, checkpoint.sequenceNumber, checkpoint.streamId],
    );
  }
}
