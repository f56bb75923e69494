import { createHash } from 'node:crypto';
import type {
  EventStreamReader,
  EventStreamWriter,
  PutRecordResult,
  StreamRecord,
  StreamRecordInput,
} from '../../ports';
import type { SqlDatabase } from './database';

export interface SqlEventStreamOptions {
  /** Several streams may share one database; each has its own shards. */
  readonly streamName: string;
  readonly shardCount: number;
}

const HASH_SPACE_BITS = 128n;

/**
 * The embedded event stream: Kinesis semantics (shards chosen by the MD5 of the partition key,
 * per-shard order, string sequence numbers) in a table of the embedded PostgreSQL.
 */
export class SqlEventStream implements EventStreamWriter, EventStreamReader {
  private readonly shardIds: string[];

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: SqlEventStreamOptions,
  ) {
    if (!Number.isInteger(options.shardCount) || options.shardCount < 1) {
      throw new RangeError(`shardCount must be a positive integer, got ${options.shardCount}`);
    }
    this.shardIds = Array.from({ length: options.shardCount }, (_, index) => shardIdOf(index));
  }

  async putRecords(records: readonly StreamRecordInput[]): Promise<PutRecordResult[]> {
    if (records.length === 0) return [];
    const shards = records.map((record) => this.shardFor(record.partitionKey));
    try {
      const sequences = await this.db.transaction(async (tx) => {
        // Writers take turns per stream so sequence numbers become visible in commit order;
        // otherwise a reader could checkpoint past a number a slower writer has yet to commit.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stream:${this.options.streamName}`]);
        // One INSERT: when it commits, every accepted record of the call is durable at once.
        // nextval() in the select list runs after ORDER BY, so sequences follow input order.
        const { rows } = await tx.query<{ sequence: number | string }>(
          `INSERT INTO stream_records (sequence, stream, shard_id, partition_key, data)
           SELECT nextval(pg_get_serial_sequence('stream_records', 'sequence')), $1, r.shard_id, r.partition_key, decode(r.data, 'hex')
           FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(shard_id, partition_key, data, ordinal)
           ORDER BY r.ordinal
           RETURNING sequence`,
          [
            this.options.streamName,
            shards,
            records.map((record) => record.partitionKey),
            records.map((record) => Buffer.from(record.data).toString('hex')),
          ],
        );
        return rows.map((row) => BigInt(row.sequence)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      });
      return records.map((_, index): PutRecordResult => ({
        ok: true,
        shardId: shards[index] as string,
        sequenceNumber: String(sequences[index]),
      }));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return records.map((): PutRecordResult => ({ ok: false, errorCode: 'InternalFailure', errorMessage: message }));
    }
  }

  /**
   * Drops records that arrived before `cutoff`, as Kinesis does once its retention period has
   * passed, so the embedded stream does not grow for ever. Answers how many went.
   */
  async trimBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query<{ trimmed: number }>(
      `WITH gone AS (DELETE FROM stream_records WHERE stream = $1 AND arrived_at < $2 RETURNING 1) SELECT count(*)::int AS trimmed FROM gone`,
      [this.options.streamName, cutoff],
    );
    return rows[0]?.trimmed ?? 0;
  }

  async listShards(): Promise<string[]> {
    return [...this.shardIds];
  }

  async readShard(shardId: string, afterSequenceNumber: string | undefined, limit: number): Promise<StreamRecord[]> {
    if (afterSequenceNumber !== undefined && !/^\d+$/.test(afterSequenceNumber)) {
      throw new RangeError(`not a sequence number of this stream: ${afterSequenceNumber}`);
    }
    const { rows } = await this.db.query<{
      sequence: number | string;
      partition_key: string;
      data: Uint8Array;
      arrived_at: Date;
    }>(
      `SELECT sequence, partition_key, data, arrived_at FROM stream_records
       WHERE stream = $1 AND shard_id = $2 AND sequence > $3::bigint
       ORDER BY sequence LIMIT $4`,
      [this.options.streamName, shardId, afterSequenceNumber ?? '0', limit],
    );
    return rows.map((row) => ({
      shardId,
      sequenceNumber: String(row.sequence),
      partitionKey: row.partition_key,
      // pg answers a Buffer, PGlite a Uint8Array: hand out the same type from both.
      data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength),
      approximateArrivalTimestamp: new Date(row.arrived_at),
    }));
  }

  /** As Kinesis does: the 128-bit MD5 of the key, shards owning equal slices of the hash space. */
  private shardFor(partitionKey: string): string {
    const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
    const index = Number((hash * BigInt(this.options.shardCount)) >> HASH_SPACE_BITS);
    return this.shardIds[index] as string;
  }
}

function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}
