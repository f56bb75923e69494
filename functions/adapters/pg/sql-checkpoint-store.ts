import type { CheckpointStore } from '../../ports';
import type { SqlDatabase } from './database';

/** The poller's per-shard positions, in the embedded (or any) PostgreSQL. */
export class SqlCheckpointStore implements CheckpointStore {
  constructor(private readonly db: SqlDatabase) {}

  async get(consumer: string, shardId: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ sequence: string }>(
      'SELECT sequence FROM checkpoints WHERE consumer = $1 AND shard_id = $2',
      [consumer, shardId],
    );
    return rows[0]?.sequence;
  }

  async set(consumer: string, shardId: string, sequenceNumber: string): Promise<void> {
    await this.db.query(
      `INSERT INTO checkpoints (consumer, shard_id, sequence) VALUES ($1, $2, $3)
       ON CONFLICT (consumer, shard_id) DO UPDATE SET sequence = EXCLUDED.sequence, updated_at = now()`,
      [consumer, shardId, sequenceNumber],
    );
  }
}
