import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ForeignSequenceNumberError, type EventStreamReader, type EventStreamWriter, type HandledRecords, type PutRecordResult, type StreamRecord, type StreamRecordInput, type SubjectRecords } from '../../ports';
import { kinesisShardIds, shardOf } from '../stream/kinesis-shards';

export interface LmdbEventStreamOptions {
  readonly streamName: string;
  readonly shardCount: number;
}

/**
 * `stream/shardId/sequence`, the sequence zero-padded so keys sort in sequence order. (Strings
 * rather than lmdb's array keys: those are told apart with `instanceof Array`, which fails for
 * arrays made in another realm, such as a test runner's VM context.)
 */
type RecordKey = string;
const SEQUENCE_DIGITS = 16;
const recordKey = (stream: string, shardId: string, sequence: number): RecordKey => `${stream}/${shardId}/${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`;
const sequenceOf = (key: RecordKey): string => String(Number(key.slice(-SEQUENCE_DIGITS)));

/**
 * Address space mapped for the file at open (not disk: the file grows as records are written).
 * From lmdb's default of 128 KB the map grew by doubling, and each earlier mapping stayed with its
 * pages resident: after the demo the runtime held 250 MB of the stream log's pages for a file of
 * 191 MB. A backlog beyond it still grows the map.
 */
const MAP_BYTES = 2 * 1024 ** 3;

/**
 * Less free space than this (or than half the file) is left as it is: rewriting would save little.
 * Trimmed every 10 s, the file a demo leaves is a few tens of MB (48 MB after 243,323 events),
 * which a rewrite at start-up copies in well under a second.
 */
const COMPACT_MIN_FREE_BYTES = 16 * 1024 * 1024;

interface LmdbStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

interface StoredRecord {
  readonly partitionKey: string;
  /** Epoch ms. */
  readonly arrivedAt: number;
  readonly data: Uint8Array;
}

/**
 * The embedded mode's event stream: Kinesis semantics (shards chosen by the MD5 of the partition
 * key, per-shard order, decimal sequence numbers) in an LMDB file. The embedded PostgreSQL was
 * the first home of the stream, but PGlite takes ~12 ms to bind and insert a put of 100 events
 * (PostgreSQL in WASM copies every parameter byte through its text protocol), most of an ingest
 * request's time; LMDB, a memory-mapped B+tree, writes the same put in 3-4 ms, flush included
 * (bench/stream-put.ts).
 *
 * A put is one write transaction: the records and the stream's sequence counter commit together,
 * and the answer waits until the commit is flushed to disk, so every record answered ok survives
 * a crash. LMDB has a single writer, so sequence numbers become visible in the order they were
 * taken: a reader that asks "after the last one I saw" never skips a slower writer's record.
 */
export class LmdbEventStream implements EventStreamWriter, EventStreamReader, SubjectRecords, HandledRecords {
  private readonly shardIds: string[];

  private constructor(
    private readonly root: RootDatabase,
    private readonly records: Database<StoredRecord, RecordKey>,
    /** Per stream, the last sequence number given out. */
    private readonly heads: Database<number, string>,
    private readonly options: LmdbEventStreamOptions,
    private readonly id: string,
  ) {
    this.shardIds = kinesisShardIds(options.shardCount);
  }

  static open(path: string, options: LmdbEventStreamOptions): LmdbEventStream {
    const root = open({ path, compression: false, mapSize: MAP_BYTES });
    // Per stream, an id drawn when the file first holds it: a file deleted or replaced holds
    // another (or none, and draws one), so checkpoints taken on the earlier file are not trusted.
    // Drawn in a write transaction, as the runtime's two threads open the file together.
    const ids = root.openDB<string, string>({ name: 'ids' });
    const id = root.transactionSync(() => {
      const known = ids.get(options.streamName);
      if (known !== undefined) return known;
      const drawn = randomUUID();
      void ids.put(options.streamName, drawn);
      return drawn;
    });
    return new LmdbEventStream(root, root.openDB({ name: 'records' }), root.openDB({ name: 'heads' }), options, id);
  }

  /**
   * Rewrites the stream's file without its free pages when they are most of it; answers whether it
   * did. LMDB reuses the pages of trimmed records but never shrinks its file, which so keeps the
   * size of the largest backlog it ever held (848 MB once the demo's 1,000,000 events had been
   * sent faster than the aggregator folded them, all of it free after). Only while nobody has the
   * file open: the local runtime calls it before it opens its stream. The copy replaces the file
   * by a rename, so a crash leaves one or the other whole.
   */
  static async compact(path: string, options: { readonly minFreeBytes?: number } = {}): Promise<boolean> {
    const file = join(path, 'data.mdb');
    const copy = `${path}.compacting`;
    rmSync(copy, { recursive: true, force: true });
    if (!existsSync(file)) return false;
    const fileBytes = statSync(file).size;
    const minFreeBytes = options.minFreeBytes ?? COMPACT_MIN_FREE_BYTES;
    if (fileBytes < minFreeBytes) return false;
    const root = open({ path, compression: false, mapSize: MAP_BYTES });
    try {
      const { pageSize, treeBranchPageCount, treeLeafPageCount, overflowPages } = root.openDB({ name: 'records' }).getStats() as LmdbStats;
      const free = fileBytes - (treeBranchPageCount + treeLeafPageCount + overflowPages) * pageSize;
      if (free < fileBytes / 2 || free < minFreeBytes) return false;
      mkdirSync(copy);
      await root.backup(copy, true);
    } finally {
      await root.close();
    }
    renameSync(join(copy, 'data.mdb'), file);
    // The lock file describes the replaced file's readers and transactions; LMDB makes a new one.
    rmSync(join(path, 'lock.mdb'), { force: true });
    rmSync(copy, { recursive: true, force: true });
    return true;
  }

  async streamId(): Promise<string> {
    return `lmdb:${this.id}`;
  }

  async putRecords(inputs: readonly StreamRecordInput[]): Promise<PutRecordResult[]> {
    if (inputs.length === 0) return [];
    const shards = inputs.map((input) => shardOf(input.partitionKey, this.shardIds));
    const stream = this.options.streamName;
    try {
      const arrivedAt = Date.now();
      const first = await this.root.transaction(() => {
        const last = this.heads.get(stream) ?? 0;
        inputs.forEach((input, index) => {
          void this.records.put(recordKey(stream, shards[index]!, last + 1 + index), { partitionKey: input.partitionKey, arrivedAt, data: input.data });
        });
        void this.heads.put(stream, last + inputs.length);
        return last + 1;
      });
      await this.root.flushed;
      return inputs.map((_, index): PutRecordResult => ({ ok: true, shardId: shards[index]!, sequenceNumber: String(first + index) }));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return inputs.map((): PutRecordResult => ({ ok: false, errorCode: 'InternalFailure', errorMessage: message }));
    }
  }

  /**
   * Takes over records of an earlier stream (the embedded SQL stream of a data folder written by
   * an earlier version) with their sequence numbers, and numbers new records after `lastSequence`,
   * so checkpoints taken on the earlier stream stay valid. Only into a stream that holds nothing yet.
   */
  async adopt(records: readonly StreamRecord[], lastSequence: number): Promise<void> {
    const stream = this.options.streamName;
    await this.root.transaction(() => {
      if (this.heads.get(stream) !== undefined) throw new Error(`stream ${stream} already holds records; nothing to adopt into`);
      for (const record of records) {
        void this.records.put(recordKey(stream, record.shardId, Number(record.sequenceNumber)), {
          partitionKey: record.partitionKey,
          arrivedAt: record.approximateArrivalTimestamp.getTime(),
          data: record.data,
        });
      }
      void this.heads.put(stream, lastSequence);
    });
    await this.root.flushed;
  }

  /** True once the stream has given out a sequence number (or adopted an earlier stream). */
  isStarted(): boolean {
    return this.heads.get(this.options.streamName) !== undefined;
  }

  async listShards(): Promise<string[]> {
    return [...this.shardIds];
  }

  async readShard(shardId: string, afterSequenceNumber: string | undefined, limit: number): Promise<StreamRecord[]> {
    if (afterSequenceNumber !== undefined && !/^\d+$/.test(afterSequenceNumber)) {
      throw new RangeError(`not a sequence number of this stream: ${afterSequenceNumber}`);
    }
    // LMDB reads synchronously: without a turn of the event loop, a reader polling in a loop would
    // never let the writers' commits (announced by LMDB's threads) be seen.
    await new Promise((resolve) => setImmediate(resolve));
    const stream = this.options.streamName;
    const after = afterSequenceNumber === undefined ? 0 : Number(afterSequenceNumber);
    if (after > (this.heads.get(stream) ?? 0)) {
      throw new ForeignSequenceNumberError(`sequence number ${afterSequenceNumber} is past the last one stream ${stream} gave out`);
    }
    const range = this.records.getRange({ start: recordKey(stream, shardId, after + 1), end: recordKey(stream, shardId, Number.MAX_SAFE_INTEGER), limit });
    return range.map(({ key, value }) => ({
      shardId,
      sequenceNumber: sequenceOf(key),
      partitionKey: value.partitionKey,
      // Copied: a decoded value may share memory LMDB reuses for the next read.
      data: Uint8Array.from(value.data),
      approximateArrivalTimestamp: new Date(value.arrivedAt),
    })).asArray;
  }

  /** Drops records that arrived before `cutoff`, as Kinesis does past its retention period. Answers how many went. */
  async trimBefore(cutoff: Date): Promise<number> {
    const stream = this.options.streamName;
    const expired: RecordKey[] = [];
    for (const shardId of this.shardIds) {
      // Oldest first within a shard: the expired records are a prefix of it.
      for (const { key, value } of this.records.getRange({ start: recordKey(stream, shardId, 0), end: recordKey(stream, shardId, Number.MAX_SAFE_INTEGER) })) {
        if (value.arrivedAt >= cutoff.getTime()) break;
        expired.push(key);
      }
    }
    if (expired.length > 0) {
      await this.root.transaction(() => {
        for (const key of expired) void this.records.remove(key);
      });
    }
    return expired.length;
  }

  async trimThrough(shardId: string, sequenceNumber: string): Promise<number> {
    const stream = this.options.streamName;
    const keys = [...this.records.getKeys({ start: recordKey(stream, shardId, 0), end: recordKey(stream, shardId, Number(sequenceNumber) + 1) })];
    if (keys.length > 0) {
      await this.root.transaction(() => {
        for (const key of keys) void this.records.remove(key);
      });
    }
    return keys.length;
  }

  async eraseRecordsOf(partitionKey: string): Promise<number> {
    const stream = this.options.streamName;
    // The partition key decides the shard, so only that shard can hold the subject's records.
    const shardId = shardOf(partitionKey, this.shardIds);
    const keys: RecordKey[] = [];
    for (const { key, value } of this.records.getRange({ start: recordKey(stream, shardId, 0), end: recordKey(stream, shardId, Number.MAX_SAFE_INTEGER) })) {
      if (value.partitionKey === partitionKey) keys.push(key);
    }
    if (keys.length > 0) {
      await this.root.transaction(() => {
        for (const key of keys) void this.records.remove(key);
      });
    }
    return keys.length;
  }

  close(): Promise<void> {
    return this.root.close();
  }
}
