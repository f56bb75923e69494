/**
 * Ports: what the use cases need from the outside world. Adapters in `functions/adapters/*`
 * implement them for AWS, PostgreSQL, Redis and the embedded (in-process) mode; use cases
 * receive them as arguments, so tests pass fakes or real services.
 */

export interface Clock {
  now(): Date;
}

export type Sleep = (ms: number) => Promise<void>;

/** A record as it is written to the stream: `data` is the JSON of a `StoredEvent`. */
export interface StreamRecordInput {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** Per input record, in input order: whether the stream took it. */
export type PutRecordResult =
  | { readonly ok: true; readonly shardId: string; readonly sequenceNumber: string }
  | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string };

/** The writing side of the event stream (Kinesis `PutRecords`, or the embedded stream). */
export interface EventStreamWriter {
  /** At most 500 records. Never throws for a per-record failure: those come back `ok: false`. */
  putRecords(records: readonly StreamRecordInput[]): Promise<PutRecordResult[]>;
}

export interface StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly approximateArrivalTimestamp: Date;
}

/** The reading side, used by the local runtime's poller to play the event source mapping. */
export interface EventStreamReader {
  listShards(): Promise<string[]>;
  /** Records of one shard strictly after `afterSequenceNumber` (from the start when undefined), oldest first. */
  readShard(shardId: string, afterSequenceNumber: string | undefined, limit: number): Promise<StreamRecord[]>;
  /**
   * Which stream this is. It changes when the stream is deleted and created again under the same
   * name (an emulator restarted empty, an embedded stream file deleted or replaced): sequence
   * numbers taken on the earlier stream mean nothing on the new one, which numbers from 1 again.
   */
  streamId(): Promise<string>;
}

/**
 * What `readShard` throws for a sequence number that is not one of the shard's: past the last
 * record the shard ever held (an embedded stream file restored from an older copy), or of another
 * stream (Kinesis's InvalidArgumentException). A consumer resuming there would skip records.
 */
export class ForeignSequenceNumberError extends Error {
  override readonly name = 'ForeignSequenceNumberError';
}

/** A consumer's position in one shard: the last record it finished, on the stream it read. */
export interface Checkpoint {
  readonly sequenceNumber: string;
  /** The reader's `streamId()` when the record was read; absent on checkpoints taken before they named their stream. */
  readonly streamId?: string;
}

/** Where the poller keeps its per-shard position, so a restart resumes where it stopped. */
export interface CheckpointStore {
  get(consumer: string, shardId: string): Promise<Checkpoint | undefined>;
  set(consumer: string, shardId: string, checkpoint: Required<Checkpoint>): Promise<void>;
}

/** The embedded streams, which may drop records every consumer has handled before their retention ends. */
export interface HandledRecords {
  /** Deletes the shard's records up to and including `sequenceNumber`; answers how many. */
  trimThrough(shardId: string, sequenceNumber: string): Promise<number>;
}

/**
 * A store of records keyed by subject that can forget one subject's records (erasure): the
 * embedded stream and dead-letter queue. Kinesis and SQS cannot, and their records expire.
 */
export interface SubjectRecords {
  /** Deletes the records whose partition key is the subject; answers how many. */
  eraseRecordsOf(partitionKey: string): Promise<number>;
}

/**
 * Makes what a store deleted unreadable in its files (rewrites pages, retires old logs): the last
 * step of an erasure, where a deletion alone leaves the bytes behind.
 */
export interface StorageScrub {
  readonly store: string;
  readonly what: string;
  scrub(): Promise<void>;
}

/** What the event source mapping sends to its on-failure destination. */
export interface DeadLetter {
  readonly consumer: string;
  readonly shardId: string;
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
  readonly reason: string;
  readonly attempts: number;
  readonly records: readonly { sequenceNumber: string; partitionKey: string; data: string }[];
}

/** What a waiting dead letter says of itself without its records: for the operational report. */
export interface DeadLetterHeading {
  readonly consumer: string;
  readonly reason: string;
  readonly attempts: number;
  /** How many records the letter holds. */
  readonly records: number;
  /** When the letter reached the queue. */
  readonly sentAt: Date;
}

export interface DeadLetterQueue {
  send(letter: DeadLetter): Promise<void>;
  /** Oldest first; for operators and tests. */
  list(limit: number): Promise<DeadLetter[]>;
  /** The letters waiting, oldest first, at most `limit`, as their headings. */
  headings(limit: number): Promise<DeadLetterHeading[]>;
}

/**
 * Real-time state (Redis in AWS, in-process in the embedded mode). A port of the operations
 * the product needs, not a clone of Redis.
 */
export interface LiveStore {
  setHash(key: string, fields: Readonly<Record<string, string | number>>): Promise<void>;
  getHash(key: string): Promise<Record<string, string>>;
  /** Adds to integer fields of a hash, creating it; sets the key's time to live. */
  incrementHash(key: string, deltas: Readonly<Record<string, number>>, ttlSeconds: number): Promise<void>;
  /** Adds members to a set and sets its time to live; answers the set's size afterwards. */
  addToSet(key: string, members: readonly string[], ttlSeconds: number): Promise<number>;
  /** Removes members from a set (erasure); answers how many were in it. */
  removeFromSet(key: string, members: readonly string[]): Promise<number>;
  /** Pushes to the head of a list, keeping at most `maxLength` newest entries. */
  pushCapped(key: string, value: string, maxLength: number): Promise<void>;
  range(key: string, start: number, stop: number): Promise<string[]>;
  /** Removes every entry of a list equal to `value` (erasure); answers how many went. */
  removeFromList(key: string, value: string): Promise<number>;
  /** Sets the key only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  get(key: string): Promise<string | undefined>;
  delete(keys: readonly string[]): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  /** Answers a function that ends the subscription. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Operational counters and measurements (CloudWatch embedded metrics in AWS, Prometheus text locally). */
export interface Metrics {
  count(name: string, value: number, dimensions?: Readonly<Record<string, string>>): void;
  /** One measurement of a distribution (a request's latency in ms): its percentiles are read back per minute. */
  observe(name: string, value: number, dimensions?: Readonly<Record<string, string>>): void;
}

/** Where generated reports are kept (S3 in AWS, a folder of the data directory locally). */
export interface ObjectStore {
  put(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /**
   * Writes an object that must be new: a key already there is an ObjectExistsError, never a
   * silent overwrite (a report's versions, `reports/{kind}/{period}/v{n}.{format}`).
   */
  putNew(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /** A link that reads the object without other credentials until it expires: S3 presigned, signed locally. */
  link(key: string, expiresInSeconds: number): Promise<{ readonly url: string; readonly expiresAt: string }>;
  /** undefined when there is no such object. */
  get(key: string): Promise<{ readonly body: Buffer; readonly contentType: string } | undefined>;
  /** Retention, where no lifecycle rule does it: removing a missing key is no error. */
  delete(key: string): Promise<void>;
}

/** putNew found the key taken. */
export class ObjectExistsError extends Error {
  constructor(readonly key: string) {
    super(`object ${key} exists already`);
    this.name = 'ObjectExistsError';
  }
}
