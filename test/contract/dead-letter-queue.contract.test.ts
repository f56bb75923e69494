import { randomBytes } from 'node:crypto';
import { sqsClient } from '../../functions/adapters/aws/clients';
import { SqsDeadLetterQueue, ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlDeadLetterQueue } from '../../functions/adapters/pg/sql-dead-letter-queue';
import type { DeadLetter, DeadLetterQueue } from '../../functions/ports';
import { describeWithServices, freshPostgresUrl, urls } from '../support/services';

interface QueueFixture {
  readonly queue: DeadLetterQueue;
  close(): Promise<void>;
}

function letter(shardId: string, first: number, reason = 'BatchItemFailure'): DeadLetter {
  return {
    consumer: 'aggregate',
    shardId,
    firstSequenceNumber: String(first),
    lastSequenceNumber: String(first + 1),
    reason,
    attempts: 3,
    records: [
      { sequenceNumber: String(first), partitionKey: 'user-1', data: Buffer.from('{"a":1}').toString('base64') },
      { sequenceNumber: String(first + 1), partitionKey: 'user-2', data: Buffer.from('{"b":2}').toString('base64') },
    ],
  };
}

function deadLetterQueueContract(open: () => Promise<QueueFixture>): void {
  let fixture: QueueFixture;

  beforeEach(async () => {
    fixture = await open();
  });

  afterEach(async () => {
    await fixture.close();
  });

  it('lists nothing while no letter was sent', async () => {
    // Act
    const letters = await fixture.queue.list(10);

    // Assess
    expect(letters).toEqual([]);
  });

  it('lists the letters sent, oldest first, as they were sent', async () => {
    // Prepare
    const sent = [letter('shardId-000000000000', 10), letter('shardId-000000000001', 20, 'FunctionError: boom')];

    // Act
    for (const each of sent) await fixture.queue.send(each);
    const letters = await fixture.queue.list(10);

    // Assess
    expect(letters).toEqual(sent);
  });

  it('lists without consuming and at most the limit', async () => {
    // Prepare
    for (let index = 0; index < 12; index += 1) await fixture.queue.send(letter('shardId-000000000000', index * 10));

    // Act
    const some = await fixture.queue.list(3);
    const all = await fixture.queue.list(100);

    // Assess
    expect(some).toHaveLength(3);
    expect(all).toHaveLength(12);
    expect(new Set(all.map((each) => each.firstSequenceNumber)).size).toBe(12);
  });

  it('heads the waiting letters, oldest first, with their record counts and arrival, and nothing of their records', async () => {
    // Prepare
    const before = Date.now() - 1_000;
    await fixture.queue.send(letter('shardId-000000000000', 10));
    await fixture.queue.send({ ...letter('shardId-000000000001', 20, 'FunctionError: boom'), records: [letter('shardId-000000000001', 20).records[0]!] });

    // Act
    const headings = await fixture.queue.headings(10);

    // Assess
    expect(headings.map(({ sentAt: _sentAt, ...rest }) => rest)).toEqual([
      { consumer: 'aggregate', reason: 'BatchItemFailure', attempts: 3, records: 2 },
      { consumer: 'aggregate', reason: 'FunctionError: boom', attempts: 3, records: 1 },
    ]);
    for (const heading of headings) expect(heading.sentAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(headings[0]!.sentAt.getTime()).toBeLessThanOrEqual(headings[1]!.sentAt.getTime());
    expect(await fixture.queue.headings(1)).toHaveLength(1);
  });
}

async function sqlQueueFixture(db: SqlDatabase, cleanUp: () => Promise<void>): Promise<QueueFixture> {
  await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  return {
    queue: new SqlDeadLetterQueue(db),
    async close() {
      await db.close();
      await cleanUp();
    },
  };
}

describe('SQL dead-letter queue on PGlite', () => {
  deadLetterQueueContract(async () => sqlQueueFixture(await embeddedDatabase(undefined), async () => undefined));

  it("erases one subject's records from the letters, and a letter left empty", async () => {
    const db = await embeddedDatabase(undefined);
    const fixture = await sqlQueueFixture(db, async () => undefined);
    const dlq = fixture.queue as SqlDeadLetterQueue;
    try {
      await dlq.send(letter('shardId-000000000000', 10));
      await dlq.send({ ...letter('shardId-000000000000', 20), records: [{ sequenceNumber: '20', partitionKey: 'user-1', data: 'e30=' }] });

      const erased = await dlq.eraseRecordsOf('user-1');
      const left = await dlq.list(10);

      expect(erased).toBe(2);
      expect(left).toEqual([{ ...letter('shardId-000000000000', 10), records: [letter('shardId-000000000000', 10).records[1]] }]);
      expect(await dlq.eraseRecordsOf('user-1')).toBe(0);
    } finally {
      await fixture.close();
    }
  });
});

describeWithServices(['postgres'], 'SQL dead-letter queue on PostgreSQL', () => {
  deadLetterQueueContract(async () => {
    const schema = await freshPostgresUrl();
    return sqlQueueFixture(postgresDatabase(schema.url), () => schema.drop());
  });
});

describeWithServices(['moto'], 'SQS dead-letter queue on moto', () => {
  deadLetterQueueContract(async () => {
    const client = sqsClient({ endpoint: urls.moto });
    const queueUrl = await ensureQueue(client, `contract-dlq-${randomBytes(6).toString('hex')}`);
    return {
      // No long polling: moto answers at once, and an empty queue would cost a second per list.
      queue: new SqsDeadLetterQueue(client, queueUrl, { waitTimeSeconds: 0 }),
      async close() {
        client.destroy();
      },
    };
  });
});
