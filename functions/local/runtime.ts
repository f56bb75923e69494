import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { LocalConfig } from '../config/local';
import { jsonLogger, type Logger } from '../adapters/log';
import { postgresDatabase, type SqlDatabase } from '../adapters/pg/database';
import { embeddedDatabase } from '../adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../adapters/pg/migrator';
import { SqlEventStream } from '../adapters/pg/sql-stream';
import { LmdbEventStream } from '../adapters/local/lmdb-event-stream';
import { SqlCheckpointStore } from '../adapters/pg/sql-checkpoint-store';
import { SqlDeadLetterQueue } from '../adapters/pg/sql-dead-letter-queue';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { kinesisClient, sqsClient } from '../adapters/aws/clients';
import { KinesisEventStream, ensureStream } from '../adapters/aws/kinesis-stream';
import { SqsDeadLetterQueue, ensureQueue } from '../adapters/aws/sqs-dead-letter-queue';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { MemoryLiveStore } from '../adapters/local/memory-live-store';
import type { Clock, DeadLetterQueue, EventStreamReader, EventStreamWriter, LiveStore, StreamRecord } from '../ports';
import { makeIngest } from '../use-cases/ingest';
import { makeAggregate } from '../use-cases/aggregate';
import { makeIngestHandler, pseudonymisers } from '../handlers/ingest';
import { makeAggregateHandler } from '../handlers/aggregate';
import { makeQueryHandler } from '../handlers/query';
import { startHttpServer } from './http-server';
import { StreamPoller } from './stream-poller';
import { localTokenAuthority, type TokenAuthority } from './tokens';
import { localPepper } from './pepper';

export interface Runtime {
  readonly url: string;
  readonly tokens: TokenAuthority;
  readonly mode: { readonly database: string; readonly stream: string; readonly streamName: string; readonly live: string };
  /** Processes every record on the stream now; tests and benchmarks call it instead of waiting for the poll. */
  drain(): Promise<void>;
  readonly deadLetters: DeadLetterQueue;
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The event source mapping's settings, as the stack sets them for the aggregate function. */
export const AGGREGATE_MAPPING = { batchSize: 500, maxBatchingWindowMs: 200, retryAttempts: 5, bisectBatchOnError: true, maxRecordAgeMs: 3_600_000 } as const;

interface Databases {
  /** Rollups and everything else the product stores (Aurora's part in AWS). */
  readonly analytics: SqlDatabase;
  /** The embedded stream, the poller's checkpoints and the dead letters (Kinesis's and SQS's part). */
  readonly streaming: SqlDatabase;
  readonly label: string;
}

/**
 * With DATABASE_URL, one PostgreSQL serves both parts. Embedded, each part gets a PGlite of its
 * own in a worker thread: PGlite has one connection, so in one instance an ingest request would
 * wait behind the aggregator's transaction, as it never does in AWS.
 */
async function openDatabases(config: LocalConfig, closers: (() => Promise<void>)[]): Promise<Databases> {
  if (config.DATABASE_URL) {
    const db = postgresDatabase(config.DATABASE_URL, { max: 8 });
    closers.push(() => db.close());
    return { analytics: db, streaming: db, label: 'postgresql' };
  }
  const dataDir = resolve(config.DATA_DIR);
  const analytics = await embeddedDatabase(join(dataDir, 'pg'), { niceness: 10 });
  closers.push(() => analytics.close());
  const streaming = await embeddedDatabase(join(dataDir, 'stream'));
  closers.push(() => streaming.close());
  return { analytics, streaming, label: `pglite (${join(config.DATA_DIR, 'pg')}, ${join(config.DATA_DIR, 'stream')})` };
}

/** Kinesis keeps records 24 hours by default; the embedded stream does the same. */
const STREAM_RETENTION_MS = 24 * 3_600_000;
const TRIM_EVERY_MS = 10 * 60_000;

interface OpenedStream {
  readonly stream: EventStreamWriter & EventStreamReader;
  readonly deadLetters: DeadLetterQueue;
  readonly label: string;
  /** Drops records past retention; Kinesis does it by itself. */
  readonly trim?: () => Promise<number>;
}

async function openStream(config: LocalConfig, db: SqlDatabase, closers: (() => Promise<void>)[]): Promise<OpenedStream> {
  if (config.AWS_ENDPOINT_URL) {
    const kinesis = kinesisClient({ endpoint: config.AWS_ENDPOINT_URL });
    await ensureStream(kinesis, config.STREAM_NAME, config.SHARD_COUNT);
    const sqs = sqsClient({ endpoint: config.AWS_ENDPOINT_URL });
    const queueUrl = await ensureQueue(sqs, `${config.STREAM_NAME}-aggregate-dlq`);
    return { stream: new KinesisEventStream(kinesis, config.STREAM_NAME), deadLetters: new SqsDeadLetterQueue(sqs, queueUrl), label: `kinesis at ${config.AWS_ENDPOINT_URL}` };
  }
  const options = { streamName: config.STREAM_NAME, shardCount: config.SHARD_COUNT };
  const sqlStream = new SqlEventStream(db, options);
  const retention = () => new Date(systemClock.now().getTime() - STREAM_RETENTION_MS);
  if (config.DATABASE_URL) {
    return { stream: sqlStream, deadLetters: new SqlDeadLetterQueue(db), label: 'a table of the database', trim: () => sqlStream.trimBefore(retention()) };
  }
  const path = join(resolve(config.DATA_DIR), 'stream-log');
  const stream = LmdbEventStream.open(path, options);
  closers.push(() => stream.close());
  await adoptEarlierStream(sqlStream, stream);
  return { stream, deadLetters: new SqlDeadLetterQueue(db), label: `embedded (LMDB, ${join(config.DATA_DIR, 'stream-log')})`, trim: () => stream.trimBefore(retention()) };
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

function openLiveStore(config: LocalConfig): { live: LiveStore; label: string } {
  if (config.REDIS_URL) return { live: new RedisLiveStore(new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }), { keyPrefix: config.REDIS_KEY_PREFIX }), label: 'redis' };
  return { live: new MemoryLiveStore({ clock: systemClock }), label: 'in-process' };
}

/**
 * The whole system on one machine: the same handlers as in AWS, behind a local HTTP server, with
 * a poller in the place of the event source mapping. Adapters follow the configuration.
 */
export async function startRuntime(config: LocalConfig, logger: Logger = jsonLogger('local', config.LOG_LEVEL)): Promise<Runtime> {
  // Closed in reverse on stop, and on a failed start so nothing is left holding the data folder.
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    return await assemble(config, logger, closers, closeAll);
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function assemble(config: LocalConfig, logger: Logger, closers: (() => Promise<void>)[], closeAll: () => Promise<void>): Promise<Runtime> {
  const tokens = localTokenAuthority(config.DATA_DIR, config.DEV_TOKEN);
  const { analytics, streaming, label: databaseLabel } = await openDatabases(config, closers);
  await migrate(analytics, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  // Checkpoints (and, embedded, the stream and the DLQ) live in a database in every local mode.
  await migrate(streaming, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  const { stream, deadLetters, label: streamLabel, trim } = await openStream(config, streaming, closers);
  const { live, label: liveLabel } = openLiveStore(config);
  closers.push(() => live.close());

  const ingestHandler = makeIngestHandler({
    ingest: makeIngest({ stream, pseudonymise: pseudonymisers(localPepper(config.DATA_DIR, config.PSEUDONYM_PEPPER)), clock: systemClock, sleep }),
    logger,
  });
  const rollups = new SqlRollupStore(analytics);
  const queryHandler = makeQueryHandler({ rollups, k: config.K_ANONYMITY, clock: systemClock, logger });
  const aggregateHandler = makeAggregateHandler({ aggregate: makeAggregate({ rollups, live, clock: systemClock, logger }), logger });

  const poller = new StreamPoller({
    consumer: 'aggregate',
    reader: stream,
    checkpoints: new SqlCheckpointStore(streaming),
    deadLetters,
    handler: aggregateHandler,
    ...AGGREGATE_MAPPING,
    pollIntervalMs: 100,
    clock: systemClock,
    sleep,
    logger,
  });

  let ready = false;
  const http = await startHttpServer({
    port: config.PORT,
    host: config.HOST,
    tokens,
    logger,
    handlers: {
      ingest: ingestHandler,
      query: queryHandler,
    },
    operations: {
      '/health': async () => ({
        status: ready ? 200 : 503,
        contentType: 'application/json',
        body: JSON.stringify({ status: ready ? 'ok' : 'starting' }),
      }),
    },
  });
  closers.push(() => http.close());
  poller.start();
  closers.push(() => poller.stop());
  if (trim) {
    const trimmer = setInterval(() => {
      trim().catch((error: unknown) => logger.warn('stream trim failed', { error: error instanceof Error ? error.message : 'unknown' }));
    }, TRIM_EVERY_MS);
    trimmer.unref();
    closers.push(async () => clearInterval(trimmer));
  }
  ready = true;

  return {
    url: http.url,
    tokens,
    mode: { database: databaseLabel, stream: streamLabel, streamName: config.STREAM_NAME, live: liveLabel },
    deadLetters,
    drain: () => poller.drain(),
    async stop() {
      ready = false;
      await closeAll();
    },
  };
}
