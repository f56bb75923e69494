/** The stream, dead letters and live store of each local mode, as the runtime and its aggregator thread open them. */
import { join, resolve } from 'node:path';
import { redisClient } from '../adapters/redis/redis-client';
import type { LocalConfig } from '../config/local';
import type { Logger } from '../adapters/log';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlEventStream } from '../adapters/pg/sql-stream';
import { LmdbEventStream } from '../adapters/local/lmdb-event-stream';
import { SqlDeadLetterQueue } from '../adapters/pg/sql-dead-letter-queue';
import { dynamoDbClient, kinesisClient, sqsClient } from '../adapters/aws/clients';
import { DynamoConsentRegistry, ensureConsentTable } from '../adapters/aws/dynamo-consent-registry';
import { LmdbConsentRegistry } from '../adapters/local/lmdb-consent-registry';
import type { ConsentRegistry } from '../ports/consent';
import { s3Client } from '../adapters/aws/clients';
import { S3ObjectStore, ensureBucket } from '../adapters/aws/s3-object-store';
import { FileObjectStore } from '../adapters/local/file-object-store';
import { KinesisEventStream, ensureStream } from '../adapters/aws/kinesis-stream';
import { SqsDeadLetterQueue, ensureQueue } from '../adapters/aws/sqs-dead-letter-queue';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { MemoryLiveStore } from '../adapters/local/memory-live-store';
import type { Clock, DeadLetterQueue, EventStreamReader, EventStreamWriter, LiveStore, ObjectStore, StreamRecord, SubjectRecords } from '../ports';

export const systemClock: Clock = { now: () => new Date() };
export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Kinesis keeps records 24 hours by default; the embedded stream does the same. */
const STREAM_RETENTION_MS = 24 * 3_600_000;
export const TRIM_EVERY_MS = 10 * 60_000;

export interface OpenedStream {
  readonly stream: EventStreamWriter & EventStreamReader;
  readonly deadLetters: DeadLetterQueue;
  readonly label: string;
  /** Drops records past retention; Kinesis does it by itself. */
  readonly trim?: () => Promise<number>;
  /** The stream and dead letters where they can forget a user's records (not Kinesis and SQS). */
  readonly erasable: readonly { readonly store: string; readonly what: string; readonly records: SubjectRecords }[];
}

const erasableRecords = (stream: SubjectRecords, deadLetters: SubjectRecords) => [
  { store: 'event stream', what: 'records not yet expired', records: stream },
  { store: 'dead-letter queue', what: 'records of failed batches', records: deadLetters },
];

/** A consumer's on-failure destination: an SQS queue `<stream>-<consumer>-dlq` when an AWS endpoint is configured, else a table of the database. */
export async function openDeadLetters(config: LocalConfig, db: SqlDatabase, consumer: string): Promise<DeadLetterQueue> {
  if (!config.AWS_ENDPOINT_URL) return new SqlDeadLetterQueue(db);
  const sqs = sqsClient({ endpoint: config.AWS_ENDPOINT_URL });
  return new SqsDeadLetterQueue(sqs, await ensureQueue(sqs, `${config.STREAM_NAME}-${consumer}-dlq`));
}

export async function openStream(config: LocalConfig, db: SqlDatabase, closers: (() => Promise<void>)[]): Promise<OpenedStream> {
  if (config.AWS_ENDPOINT_URL) {
    const kinesis = kinesisClient({ endpoint: config.AWS_ENDPOINT_URL });
    await ensureStream(kinesis, config.STREAM_NAME, config.SHARD_COUNT);
    return { stream: new KinesisEventStream(kinesis, config.STREAM_NAME), deadLetters: await openDeadLetters(config, db, 'aggregate'), label: `kinesis at ${config.AWS_ENDPOINT_URL}`, erasable: [] };
  }
  const options = { streamName: config.STREAM_NAME, shardCount: config.SHARD_COUNT };
  const sqlStream = new SqlEventStream(db, options);
  const retention = () => new Date(systemClock.now().getTime() - STREAM_RETENTION_MS);
  if (config.DATABASE_URL) {
    const deadLetters = new SqlDeadLetterQueue(db);
    return { stream: sqlStream, deadLetters, label: 'a table of the database', trim: () => sqlStream.trimBefore(retention()), erasable: erasableRecords(sqlStream, deadLetters) };
  }
  const path = join(resolve(config.DATA_DIR), 'stream-log');
  const stream = LmdbEventStream.open(path, options);
  closers.push(() => stream.close());
  await adoptEarlierStream(sqlStream, stream);
  const deadLetters = new SqlDeadLetterQueue(db);
  return { stream, deadLetters, label: `embedded (LMDB, ${join(config.DATA_DIR, 'stream-log')})`, trim: () => stream.trimBefore(retention()), erasable: erasableRecords(stream, deadLetters) };
}

/**
 * A data folder of an earlier version keeps its stream in the embedded database: its records,
 * consumed or not, move to the LMDB stream with their sequence numbers (so the poller's
 * checkpoints stay valid), once, before anything reads or writes the new stream.
 */
async function adoptEarlierStream(earlier: SqlEventStream, stream: LmdbEventStream): Promise<void> {
  if (stream.isStarted()) return;
  const records: StreamRecord[] = [];
  for (const shardId of await earlier.listShards()) {
    for (let after: string | undefined; ; ) {
      const page = await earlier.readShard(shardId, after, 1_000);
      if (page.length === 0) break;
      records.push(...page);
      after = page[page.length - 1]!.sequenceNumber;
    }
  }
  const lastSequence = await earlier.lastSequence();
  if (records.length === 0 && lastSequence === 0) return;
  await stream.adopt(records, lastSequence);
  // Every record there arrived before now.
  await earlier.trimBefore(new Date(Date.now() + 60_000));
}

export function openLiveStore(config: LocalConfig, logger: Logger): LiveStore {
  if (config.REDIS_URL) return new RedisLiveStore(redisClient(config.REDIS_URL, { logger }), { keyPrefix: config.REDIS_KEY_PREFIX });
  return new MemoryLiveStore({ clock: systemClock });
}

export const liveStoreLabel = (config: LocalConfig): string => (config.REDIS_URL ? 'redis' : 'in-process');


/** DynamoDB when an AWS endpoint is configured (table `<stream>-consent`), else an LMDB file in the data folder. */
export async function openConsentRegistry(config: LocalConfig, closers: (() => Promise<void>)[]): Promise<{ registry: ConsentRegistry; label: string }> {
  if (config.AWS_ENDPOINT_URL) {
    const client = dynamoDbClient({ endpoint: config.AWS_ENDPOINT_URL });
    const tableName = `${config.STREAM_NAME}-consent`;
    await ensureConsentTable(client, tableName);
    return { registry: new DynamoConsentRegistry(client, tableName), label: `dynamodb table ${tableName}` };
  }
  const path = join(resolve(config.DATA_DIR), 'consent');
  const registry = LmdbConsentRegistry.open(path);
  closers.push(() => registry.close());
  return { registry, label: `embedded (LMDB, ${join(config.DATA_DIR, 'consent')})` };
}

/** S3 when an AWS endpoint is configured (bucket `<stream>-reports`), else files in `DATA_DIR/reports`. */
export async function openObjectStore(config: LocalConfig): Promise<ObjectStore> {
  if (config.AWS_ENDPOINT_URL) {
    const client = s3Client({ endpoint: config.AWS_ENDPOINT_URL });
    const bucket = `${config.STREAM_NAME}-reports`.toLowerCase();
    await ensureBucket(client, bucket);
    return new S3ObjectStore(client, bucket);
  }
  return new FileObjectStore(join(resolve(config.DATA_DIR), 'objects'));
}
