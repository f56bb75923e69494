import { randomBytes } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlCheckpointStore } from '../../functions/adapters/pg/sql-checkpoint-store';
import { SqlDeadLetterQueue } from '../../functions/adapters/pg/sql-dead-letter-queue';
import { SqlEventStream } from '../../functions/adapters/pg/sql-stream';
import { StreamPoller, type PollerStatus } from '../../functions/local/stream-poller';
import { StoreUnavailableError } from '../../functions/ports/unavailable';

const silent = { warn: () => undefined, error: () => undefined };
const bodyOf = (record: KinesisStreamEvent['Records'][number]): string => Buffer.from(record.kinesis.data, 'base64').toString();

/** A stream consumer whose store is out for a while: the records wait for it, they are not the batch's fault. */
describe('stream poller while a store is unavailable', () => {
  let db: SqlDatabase;

  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
    await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  });
  afterAll(async () => {
    await db.close();
  });

  it('retries the whole batch without spending retries or bisecting, so nothing is dead-lettered and each record is handled once', async () => {
    // Prepare
    const name = randomBytes(4).toString('hex');
    const stream = new SqlEventStream(db, { streamName: `stream-${name}`, shardCount: 1 });
    const bodies = Array.from({ length: 25 }, (_, i) => `record-${i}`);
    await stream.putRecords(bodies.map((body) => ({ partitionKey: 'user', data: new TextEncoder().encode(body) })));
    const deadLetters = new SqlDeadLetterQueue(db);
    const handled: string[] = [];
    const statuses: PollerStatus[] = [];
    let outage = 8;
    const waits: number[] = [];
    const poller = new StreamPoller({
      consumer: `consumer-${name}`,
      reader: stream,
      checkpoints: new SqlCheckpointStore(db),
      deadLetters,
      // Longer than the retry budget: as a database restart would be.
      handler: async (event) => {
        if (outage > 0) {
          outage -= 1;
          statuses.push(poller.status());
          throw new StoreUnavailableError('PostgreSQL', new Error('Connection terminated unexpectedly'));
        }
        handled.push(...event.Records.map(bodyOf));
      },
      retryAttempts: 2,
      bisectBatchOnError: true,
      batchSize: 10,
      pollIntervalMs: 100,
      clock: { now: () => new Date() },
      sleep: async (ms) => void waits.push(ms),
      logger: silent,
    });

    // Act
    await poller.drain();

    // Assess
    expect(handled).toEqual(bodies);
    expect((await deadLetters.list(1_000)).filter((letter) => letter.consumer === `consumer-${name}`)).toEqual([]);
    // Each wait longer than the one before, up to a cap.
    expect(waits.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5_000);
    expect(statuses.at(-1)).toMatchObject({ consecutiveFailures: 7, lastError: 'PostgreSQL is unavailable: Connection terminated unexpectedly' });
    expect(poller.status()).toMatchObject({ consecutiveFailures: 0, lastError: undefined });
  });
});
