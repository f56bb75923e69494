/** The stream, dead letters and live store of each local mode, as the runtime and its aggregator thread open them. */
import { join, resolve } from 'node:path';
import { redisClient } from '../adapters/redis/redis-client';
import type { LocalConfig } from '../config/local';
import { jsonLogger, type Logger } from '../adapters/log';
import { recreateLostResource } from '../adapters/aws/recreate-lost-resource';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlEventStream } from '../adapters/pg/sql-stream';
import { LmdbEventStream } from '../adapters/local/lmdb-event-stream';
import { SqlDeadLetterQueue } from '../adapters/pg/sql-dead-letter-queue';
import { SqlCheckpointStore } from '../adapters/pg/sql-checkpoint-store';
import { makeTrimHandled } from '../use-cases/trim-stream';
import { dynamoDbClient, kinesisClient, s3Client, sesClient, snsClient, sqsClient } from '../adapters/aws/clients';
import { DynamoConsentRegistry, ensureConsentTable } from '../adapters/aws/dynamo-consent-registry';
import { LmdbConsentRegistry } from '../adapters/local/lmdb-consent-registry';
import type { ConsentRegistry } from '../ports/consent';
import type { RecordKeyStore } from '../ports/record-keys';
import { DynamoRecordKeyStore, ensureRecordKeyTable } from '../adapters/aws/dynamo-record-keys';
import { SqlRecordKeyStore } from '../adapters/pg/sql-record-keys';
import { S3ObjectStore, ensureBucket } from '../adapters/aws/s3-object-store';
import { FileObjectStore } from '../adapters/local/file-object-store';
import type { LocalLinks } from '../adapters/local/local-links';
import { OutboxOwnerAlerts, OutboxReportMailer } from '../adapters/local/outbox-report-mail';
import { SesReportMailer } from '../adapters/aws/ses-report-mailer';
import { SnsOwnerAlerts } from '../adapters/aws/sns-owner-alerts';
import { ensureAlertTopics } from '../adapters/aws/sns-channel';
import { VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import type { OwnerAlerts, ReportMailer } from '../ports/reports';
import { KinesisEventStream, ensureStream } from '../adapters/aws/kinesis-stream';
import { SqsDeadLetterQueue, ensureQueue } from '../adapters/aws/sqs-dead-letter-queue';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { MemoryLiveStore } from '../adapters/local/memory-live-store';
import type { Clock, DeadLetterQueue, EventStreamReader, EventStreamWriter, LiveStore, ObjectStore, StorageScrub, StreamRecord, SubjectRecords } from '../ports';

export const systemClock: Clock = { now: () => new Date() };
export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Kinesis keeps records 24 hours by default; the embedded stream keeps them no longer, and drops
 * them earlier once every consumer has handled them (functions/use-cases/trim-stream.ts).
 */
const STREAM_RETENTION_MS = 24 * 3_600_000;
/**
 * Often enough that the stream holds little more than the consumers' backlog, whose size the data
 * folder keeps (LMDB reuses freed pages but never shrinks its file) and whose pages stay resident
 * in the runtime's memory, as the file is mapped. Admission holds the backlog to 15 s of the
 * aggregator's work; trimmed every minute, the stream also held the minute's handled records,
 * most of the 325 MB of mapped pages the runtime held during the demo.
 */
export const TRIM_EVERY_MS = 10_000;

/** The consumers of the local runtime's stream (the aggregator thread's and the monitoring's pollers). */
export const STREAM_CONSUMERS = { aggregate: 'aggregate', detect: 'detect' } as const;

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

const emulatorLogger = (config: LocalConfig): Logger => jsonLogger('local', config.LOG_LEVEL);

/**
 * The emulated mode creates its stream, queues and table at start-up, where the stack would; an
 * emulator restarted empty forgets them, so their clients create them again when a call finds
 * one gone (functions/adapters/aws/recreate-lost-resource.ts). Each recreation goes through a
 * client of its own: its waiter's "not there yet" must not start another recreation.
 */
export function recreatedWhenLost<Client extends { middlewareStack: { use(plugin: ReturnType<typeof recreateLostResource>): void } }>(
  client: Client,
  options: Parameters<typeof recreateLostResource>[0],
): Client {
  client.middlewareStack.use(recreateLostResource(options));
  return client;
}

/** A client for one job (creating a resource), closed after it so its sockets do not linger. */
export async function withClient<Client extends { destroy(): void }, T>(client: Client, job: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await job(client);
  } finally {
    client.destroy();
  }
}

/** A consumer's on-failure destination: an SQS queue `<stream>-<consumer>-dlq` when an AWS endpoint is configured, else a table of the database. */
export async function openDeadLetters(config: LocalConfig, db: SqlDatabase, consumer: string, logger = emulatorLogger(config)): Promise<DeadLetterQueue> {
  if (!config.AWS_ENDPOINT_URL) return new SqlDeadLetterQueue(db);
  const endpoint = { endpoint: config.AWS_ENDPOINT_URL };
  const queueName = `${config.STREAM_NAME}-${consumer}-dlq`;
  const create = () => withClient(sqsClient(endpoint), (client) => ensureQueue(client, queueName));
  const queueUrl = await create();
  // moto and LocalStack derive a queue's URL from its name, so the URL held here stays valid.
  const sqs = recreatedWhenLost(sqsClient(endpoint), { resource: `sqs queue ${queueName}`, lostWhen: ['QueueDoesNotExist'], recreate: async () => void (await create()), logger });
  return new SqsDeadLetterQueue(sqs, queueUrl);
}

const streamLogPath = (config: LocalConfig) => join(resolve(config.DATA_DIR), 'stream-log');

export async function openStream(config: LocalConfig, db: SqlDatabase, closers: (() => Promise<void>)[], logger = emulatorLogger(config)): Promise<OpenedStream> {
  if (config.AWS_ENDPOINT_URL) {
    const endpoint = { endpoint: config.AWS_ENDPOINT_URL };
    const create = () => withClient(kinesisClient(endpoint), (client) => ensureStream(client, config.STREAM_NAME, config.SHARD_COUNT));
    await create();
    const kinesis = recreatedWhenLost(kinesisClient(endpoint), { resource: `kinesis stream ${config.STREAM_NAME}`, lostWhen: ['ResourceNotFoundException'], recreate: create, logger });
    return { stream: new KinesisEventStream(kinesis, config.STREAM_NAME), deadLetters: await openDeadLetters(config, db, 'aggregate', logger), label: `kinesis at ${config.AWS_ENDPOINT_URL}`, erasable: [] };
  }
  const options = { streamName: config.STREAM_NAME, shardCount: config.SHARD_COUNT };
  const sqlStream = new SqlEventStream(db, options);
  const retention = () => new Date(systemClock.now().getTime() - STREAM_RETENTION_MS);
  const trimmer = (stream: LmdbEventStream | SqlEventStream) => {
    const trimHandled = makeTrimHandled({ stream, checkpoints: new SqlCheckpointStore(db), consumers: Object.values(STREAM_CONSUMERS) });
    return async () => (await stream.trimBefore(retention())) + (await trimHandled());
  };
  if (config.DATABASE_URL) {
    const deadLetters = new SqlDeadLetterQueue(db);
    return { stream: sqlStream, deadLetters, label: 'a table of the database', trim: compactedAfter(trimmer(sqlStream), () => sqlStream.compact()), erasable: erasableRecords(sqlStream, deadLetters) };
  }
  const stream = LmdbEventStream.open(streamLogPath(config), options);
  closers.push(() => stream.close());
  await adoptEarlierStream(sqlStream, stream);
  const deadLetters = new SqlDeadLetterQueue(db);
  return { stream, deadLetters, label: `embedded (LMDB, ${join(config.DATA_DIR, 'stream-log')})`, trim: trimmer(stream), erasable: erasableRecords(stream, deadLetters) };
}

/**
 * A trim of the stream's table followed by its compaction when it dropped records. The trimmed
 * rows are the whole backlog a load left behind: left to autovacuum (off on this machine's
 * server, and otherwise late and cost-limited), they held 884 MB (900 bytes an event) after the
 * demo's 1,000,000 events. Compacted at once, their space is reused by the next records, or given
 * back when nothing is left.
 */
function compactedAfter(trim: () => Promise<number>, vacuum: () => Promise<void>): () => Promise<number> {
  return async () => {
    const trimmed = await trim();
    if (trimmed > 0) await vacuum();
    return trimmed;
  };
}

/**
 * The embedded stream's file without the free pages of its largest backlog, before anything opens
 * it (the runtime calls it first thing). Answers whether it was rewritten.
 */
export async function compactStreamLog(config: LocalConfig): Promise<boolean> {
  if (config.AWS_ENDPOINT_URL || config.DATABASE_URL) return false;
  return LmdbEventStream.compact(streamLogPath(config));
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
export async function openConsentRegistry(
  config: LocalConfig,
  closers: (() => Promise<void>)[],
): Promise<{ registry: ConsentRegistry; label: string; scrub?: StorageScrub }> {
  if (config.AWS_ENDPOINT_URL) {
    const endpoint = { endpoint: config.AWS_ENDPOINT_URL };
    const tableName = `${config.STREAM_NAME}-consent`;
    const create = () => withClient(dynamoDbClient(endpoint), (client) => ensureConsentTable(client, tableName));
    await create();
    // Recreated empty: the consents the emulator forgot are gone, and no consent is no consent.
    const client = recreatedWhenLost(dynamoDbClient(endpoint), { resource: `dynamodb table ${tableName}`, lostWhen: ['ResourceNotFoundException'], recreate: create, logger: emulatorLogger(config) });
    return { registry: new DynamoConsentRegistry(client, tableName), label: `dynamodb table ${tableName}` };
  }
  const path = join(resolve(config.DATA_DIR), 'consent');
  const registry = LmdbConsentRegistry.open(path);
  closers.push(() => registry.close());
  return { registry, label: `embedded (LMDB, ${join(config.DATA_DIR, 'consent')})`, scrub: registry };
}

/**
 * The keys that seal the stream's records: DynamoDB beside the consent table when an AWS endpoint
 * is configured (table `<stream>-record-keys`), as in AWS; else a table of the stream's database,
 * which both the HTTP thread and the aggregator's thread reach, and which the erasure rewrites.
 */
export async function openRecordKeys(config: LocalConfig, streaming: SqlDatabase): Promise<RecordKeyStore> {
  if (!config.AWS_ENDPOINT_URL) return new SqlRecordKeyStore(streaming);
  const endpoint = { endpoint: config.AWS_ENDPOINT_URL };
  const tableName = `${config.STREAM_NAME}-record-keys`;
  const create = () => withClient(dynamoDbClient(endpoint), (client) => ensureRecordKeyTable(client, tableName));
  await create();
  // Recreated empty: the keys went with the stream whose records they sealed, so nothing readable is lost.
  const client = recreatedWhenLost(dynamoDbClient(endpoint), { resource: `dynamodb table ${tableName}`, lostWhen: ['ResourceNotFoundException'], recreate: create, logger: emulatorLogger(config) });
  return new DynamoRecordKeyStore(client, tableName);
}

/** S3 when an AWS endpoint is configured (bucket `<stream>-reports`), else files in `DATA_DIR/reports`. */
export async function openObjectStore(config: LocalConfig, links?: LocalLinks): Promise<ObjectStore> {
  if (config.AWS_ENDPOINT_URL) {
    const endpoint = { endpoint: config.AWS_ENDPOINT_URL };
    const bucket = `${config.STREAM_NAME}-reports`.toLowerCase();
    const create = () => withClient(s3Client(endpoint), (client) => ensureBucket(client, bucket));
    await create();
    // Recreated empty: reports written before the restart are gone, as the emulator lost them.
    return new S3ObjectStore(recreatedWhenLost(s3Client(endpoint), { resource: `s3 bucket ${bucket}`, lostWhen: ['NoSuchBucket'], recreate: create, logger: emulatorLogger(config) }), bucket);
  }
  return new FileObjectStore(join(resolve(config.DATA_DIR), 'objects'), links);
}

/** The file that stands in for SNS and SES in the embedded mode; undefined when an emulator has them. */
export const outboxPath = (config: LocalConfig): string | undefined => (config.AWS_ENDPOINT_URL ? undefined : join(resolve(config.DATA_DIR), 'alerts', 'outbox.jsonl'));

/** The interventions' outbox: a file of its own, since its lines hold the app's channel tokens. */
export const interventionOutboxPath = (config: LocalConfig): string => join(resolve(config.DATA_DIR), 'interventions', 'outbox.jsonl');

/**
 * Where report mail and owners' alerts go: the outbox file when no AWS endpoint is configured
 * (the alerts' outbox, so one file shows everything the product would have sent), else SES and
 * the operations topic on the emulator.
 */
export async function openReportDelivery(config: LocalConfig): Promise<{ mailer: ReportMailer; owners: OwnerAlerts }> {
  const outbox = outboxPath(config);
  if (outbox !== undefined) return { mailer: new OutboxReportMailer(outbox), owners: new OutboxOwnerAlerts(outbox) };
  const endpoint = { endpoint: config.AWS_ENDPOINT_URL };
  // The alerts' sender and warning topic, made (or found) by the monitoring's set-up the same way.
  await withClient(sesClient(endpoint), (client) => client.send(new VerifyEmailIdentityCommand({ EmailAddress: config.ALERT_EMAIL_FROM })));
  const topics = await withClient(snsClient(endpoint), (client) => ensureAlertTopics(client, config.STREAM_NAME));
  return { mailer: new SesReportMailer(sesClient(endpoint), config.ALERT_EMAIL_FROM), owners: new SnsOwnerAlerts(snsClient(endpoint), topics.warning) };
}
