import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlCheckpointStore } from '../../functions/adapters/pg/sql-checkpoint-store';
import { SqlDeadLetterQueue } from '../../functions/adapters/pg/sql-dead-letter-queue';
import { SqlEventStream } from '../../functions/adapters/pg/sql-stream';
import { LmdbEventStream } from '../../functions/adapters/local/lmdb-event-stream';
import {
  StreamPoller,
  expiredPrefixLength,
  nextStep,
  outcomeOf,
  splitInHalves,
  toKinesisEvent,
  type StreamHandler,
  type StreamPollerOptions,
} from '../../functions/local/stream-poller';
import type { Clock, DeadLetter, StreamRecord } from '../../functions/ports';
import { resumeAfter } from '../../functions/domain/stream/checkpoint';

const silent = { warn: () => undefined, error: () => undefined };
const systemClock: Clock = { now: () => new Date() };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function streamRecord(sequenceNumber: string, arrivedAt = new Date('2026-11-20T10:00:00Z')): StreamRecord {
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber,
    partitionKey: `user-${sequenceNumber}`,
    data: new TextEncoder().encode(`body-${sequenceNumber}`),
    approximateArrivalTimestamp: arrivedAt,
  };
}

describe('stream poller decisions', () => {
  const records = ['1', '2', '3', '4', '5'].map((sequence) => streamRecord(sequence));
  const policy = { retryAttempts: 2, bisectBatchOnError: false };

  it('splits a batch in halves, the first one larger when odd', () => {
    expect(splitInHalves([1, 2, 3, 4, 5])).toEqual([[1, 2, 3], [4, 5]]);
    expect(splitInHalves([1, 2])).toEqual([[1], [2]]);
  });

  it('reads the lowest reported failure and treats an unknown identifier as a failed batch', () => {
    expect(outcomeOf(records, undefined)).toEqual({ kind: 'success' });
    expect(outcomeOf(records, { batchItemFailures: [] })).toEqual({ kind: 'success' });
    expect(outcomeOf(records, { batchItemFailures: [{ itemIdentifier: '4' }, { itemIdentifier: '2' }] })).toEqual({
      kind: 'partial',
      failedIndex: 1,
    });
    expect(outcomeOf(records, { batchItemFailures: [{ itemIdentifier: '99' }] }).kind).toBe('error');
  });

  it('retries a partial failure from the first failed record', () => {
    // Act
    const step = nextStep({ records, attempts: 0 }, { kind: 'partial', failedIndex: 2 }, policy);

    // Assess
    expect(step).toEqual({ kind: 'retry', succeeded: 2, then: [{ records: records.slice(2), attempts: 1 }] });
  });

  it('dead-letters only the failed record once retries run out, and goes on with the rest', () => {
    // Act
    const step = nextStep({ records: records.slice(2), attempts: 2 }, { kind: 'partial', failedIndex: 0 }, policy);

    // Assess
    expect(step).toEqual({
      kind: 'deadLetter',
      failed: [records[2]],
      reason: 'BatchItemFailure',
      attempts: 3,
      then: [{ records: records.slice(3), attempts: 0 }],
    });
  });

  it('bisects a failed batch without spending a retry, and retries a single record', () => {
    // Prepare
    const bisecting = { ...policy, bisectBatchOnError: true };

    // Act
    const split = nextStep({ records, attempts: 1 }, { kind: 'error', message: 'boom' }, bisecting);
    const single = nextStep({ records: records.slice(0, 1), attempts: 1 }, { kind: 'error', message: 'boom' }, bisecting);

    // Assess
    expect(split).toEqual({
      kind: 'retry',
      succeeded: 0,
      then: [
        { records: records.slice(0, 3), attempts: 1 },
        { records: records.slice(3), attempts: 1 },
      ],
    });
    expect(single).toEqual({ kind: 'retry', succeeded: 0, then: [{ records: records.slice(0, 1), attempts: 2 }] });
  });

  it('dead-letters the whole batch when a thrown error outlasts the retries', () => {
    // Act
    const step = nextStep({ records, attempts: 2 }, { kind: 'error', message: 'boom' }, policy);

    // Assess
    expect(step).toEqual({ kind: 'deadLetter', failed: records, reason: 'FunctionError: boom', attempts: 3, then: [] });
  });

  it('expires only a leading run of old records', () => {
    // Prepare
    const now = new Date('2026-11-20T12:00:00Z');
    const old = new Date('2026-11-20T10:00:00Z');
    const fresh = new Date('2026-11-20T11:59:00Z');

    // Act
    const lengths = [
      expiredPrefixLength([streamRecord('1', old), streamRecord('2', old), streamRecord('3', fresh)], now, 3_600_000),
      expiredPrefixLength([streamRecord('1', fresh), streamRecord('2', old)], now, 3_600_000),
      expiredPrefixLength([streamRecord('1', old)], now, 3_600_000),
    ];

    // Assess
    expect(lengths).toEqual([2, 0, 1]);
  });

  it('builds the event Lambda receives from Kinesis', () => {
    // Act
    const event = toKinesisEvent([streamRecord('42')], 'arn:aws:kinesis:eu-west-1:123456789012:stream/events');

    // Assess
    expect(event.Records[0]).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'user-42',
        sequenceNumber: '42',
        data: Buffer.from('body-42').toString('base64'),
        approximateArrivalTimestamp: Date.parse('2026-11-20T10:00:00Z') / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: 'shardId-000000000000:42',
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/local-stream-poller',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/events',
    });
  });

  it('resumes after a checkpoint of this stream, and from the start of a stream its checkpoint was not taken on', () => {
    // Act
    const decisions = {
      none: resumeAfter(undefined, 'stream-b'),
      same: resumeAfter({ sequenceNumber: '20', streamId: 'stream-b' }, 'stream-b'),
      earlierStream: resumeAfter({ sequenceNumber: '20', streamId: 'stream-a' }, 'stream-b'),
      // Taken before checkpoints named their stream: trusted, as it was.
      unnamed: resumeAfter({ sequenceNumber: '20' }, 'stream-b'),
    };

    // Assess
    expect(decisions).toEqual({
      none: { after: undefined, reset: false },
      same: { after: '20', reset: false },
      earlierStream: { after: undefined, reset: true },
      unnamed: { after: '20', reset: false },
    });
  });

  it('refuses a misspelled option', () => {
    expect(() => new StreamPoller({ ...({} as StreamPollerOptions), batchsize: 10 } as unknown as StreamPollerOptions)).toThrow(
      /unknown stream poller options: batchsize/,
    );
  });
});

describe('stream poller over the embedded stream', () => {
  let db: SqlDatabase;

  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
    await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  });

  afterAll(async () => {
    await db.close();
  });

  /** A fresh stream and consumer per test, so tests share the database without meeting. */
  function setUp(shardCount = 2) {
    const name = randomBytes(4).toString('hex');
    const stream = new SqlEventStream(db, { streamName: `stream-${name}`, shardCount });
    const consumer = `consumer-${name}`;
    const deadLetters = new SqlDeadLetterQueue(db);
    const delivered: string[] = [];
    return {
      stream,
      consumer,
      delivered,
      async put(bodies: readonly string[]): Promise<void> {
        const results = await stream.putRecords(bodies.map((body) => ({ partitionKey: keyOf(body), data: new TextEncoder().encode(body) })));
        if (!results.every((result) => result.ok)) throw new Error('put failed');
      },
      poller(handler: StreamHandler, options: Partial<StreamPollerOptions> = {}): StreamPoller {
        return new StreamPoller({
          consumer,
          reader: stream,
          checkpoints: new SqlCheckpointStore(db),
          deadLetters,
          handler,
          clock: systemClock,
          sleep,
          logger: silent,
          ...options,
        });
      },
      async letters(): Promise<DeadLetter[]> {
        return (await deadLetters.list(1_000)).filter((letter) => letter.consumer === consumer);
      },
    };
  }

  // Bodies look like `user-3:7`: the user is the partition key, so order is checked per user.
  const keyOf = (body: string): string => body.split(':')[0] as string;
  const bodyOf = (record: KinesisStreamEvent['Records'][number]): string => Buffer.from(record.kinesis.data, 'base64').toString();
  const bodies = (count: number, users = 4): string[] => Array.from({ length: count }, (_, index) => `user-${index % users}:${index}`);
  const lettered = (letters: readonly DeadLetter[]): string[] =>
    letters.flatMap((letter) => letter.records.map((record) => Buffer.from(record.data, 'base64').toString()));

  function expectDeliveredOnceInOrder(delivered: readonly string[], expected: readonly string[]): void {
    expect([...delivered].sort()).toEqual([...expected].sort());
    for (const user of new Set(expected.map(keyOf))) {
      expect(delivered.filter((body) => keyOf(body) === user)).toEqual(expected.filter((body) => keyOf(body) === user));
    }
  }

  it('sends a poison record to the DLQ without blocking its shard', async () => {
    // Prepare
    const test = setUp();
    const input = bodies(40);
    input.splice(17, 0, 'user-1:poison');
    await test.put(input);
    let invocations = 0;
    // The handler stops at the first record it cannot process, as a handler keeping order should.
    const handler: StreamHandler = async (event) => {
      invocations += 1;
      for (const record of event.Records) {
        if (bodyOf(record).endsWith('poison')) return { batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] };
        test.delivered.push(bodyOf(record));
      }
      return { batchItemFailures: [] };
    };

    // Act
    await test.poller(handler, { batchSize: 10, retryAttempts: 2 }).drain();

    // Assess
    const letters = await test.letters();
    expect(lettered(letters)).toEqual(['user-1:poison']);
    expect(letters[0]).toMatchObject({ reason: 'BatchItemFailure', attempts: 3 });
    expectDeliveredOnceInOrder(test.delivered, bodies(40));
    expect(invocations).toBeGreaterThan(2);
  });

  it('isolates a poison record by bisecting batches that throw', async () => {
    // Prepare
    const test = setUp(1);
    const input = bodies(16);
    input.splice(9, 0, 'user-2:poison');
    await test.put(input);
    const handler: StreamHandler = async (event) => {
      const batch = event.Records.map(bodyOf);
      if (batch.some((body) => body.endsWith('poison'))) throw new Error('cannot parse');
      test.delivered.push(...batch);
    };

    // Act
    await test.poller(handler, { batchSize: 8, retryAttempts: 1, bisectBatchOnError: true }).drain();

    // Assess
    const letters = await test.letters();
    expect(letters).toHaveLength(1);
    expect(lettered(letters)).toEqual(['user-2:poison']);
    expect(letters[0]?.reason).toBe('FunctionError: cannot parse');
    expectDeliveredOnceInOrder(test.delivered, bodies(16));
  });

  it('dead-letters a whole batch that keeps throwing when not bisecting, then goes on', async () => {
    // Prepare
    const test = setUp(1);
    await test.put(['user-0:0', 'user-0:poison', 'user-0:1']);
    let invocations = 0;
    const handler: StreamHandler = async (event) => {
      invocations += 1;
      const batch = event.Records.map(bodyOf);
      if (batch.some((body) => body.endsWith('poison'))) throw new Error('cannot parse');
      test.delivered.push(...batch);
    };
    const poller = test.poller(handler, { batchSize: 10, retryAttempts: 2 });

    // Act
    await poller.drain();
    await test.put(['user-0:2']);
    await poller.drain();

    // Assess
    expect(invocations).toBe(4);
    const letters = await test.letters();
    expect(lettered(letters)).toEqual(['user-0:0', 'user-0:poison', 'user-0:1']);
    expect(letters[0]?.attempts).toBe(3);
    expect(test.delivered).toEqual(['user-0:2']);
  });

  it('resumes from its checkpoint without redelivering', async () => {
    // Prepare
    const test = setUp();
    const handler: StreamHandler = async (event) => {
      test.delivered.push(...event.Records.map(bodyOf));
    };
    await test.put(bodies(12));
    await test.poller(handler, { batchSize: 5 }).drain();
    const later = ['user-0:100', 'user-1:101', 'user-2:102'];
    await test.put(later);

    // Act
    test.delivered.length = 0;
    await test.poller(handler, { batchSize: 5 }).drain();

    // Assess
    expectDeliveredOnceInOrder(test.delivered, later);
    expect(await test.letters()).toEqual([]);
  });

  it('sends records older than the maximum record age to the DLQ instead of the handler', async () => {
    // Prepare
    const test = setUp(1);
    await test.put(['user-0:0', 'user-0:1']);
    const twoHoursLater: Clock = { now: () => new Date(Date.now() + 2 * 3_600_000) };
    let invocations = 0;
    const handler: StreamHandler = async () => {
      invocations += 1;
    };
    const poller = test.poller(handler, { clock: twoHoursLater, maxRecordAgeMs: 3_600_000 });

    // Act
    await poller.drain();
    await poller.drain();

    // Assess
    expect(invocations).toBe(0);
    const letters = await test.letters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'MaximumRecordAgeExceeded', attempts: 0 });
    expect(lettered(letters)).toEqual(['user-0:0', 'user-0:1']);
  });

  it('hands the handler a Kinesis event naming the shard and sequence of each record', async () => {
    // Prepare
    const test = setUp(1);
    await test.put(['user-0:0']);
    const events: KinesisStreamEvent[] = [];
    const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
      events.push(event);
      return { batchItemFailures: [] };
    };

    // Act
    await test.poller(handler).pollOnce();

    // Assess
    const [record] = events[0]?.Records ?? [];
    expect(record?.eventID).toBe(`shardId-000000000000:${record?.kinesis.sequenceNumber}`);
    expect(record?.kinesis.partitionKey).toBe('user-0');
    expect(Math.abs((record?.kinesis.approximateArrivalTimestamp ?? 0) - Date.now() / 1000)).toBeLessThan(60);
  });

  it('polls until stopped and finishes the batch in flight before stopping', async () => {
    // Prepare
    const test = setUp(1);
    let started = false;
    const handler: StreamHandler = async (event) => {
      started = true;
      await sleep(50);
      test.delivered.push(...event.Records.map(bodyOf));
    };
    const poller = test.poller(handler, { pollIntervalMs: 10 });
    poller.start();
    await test.put(bodies(6, 1));
    for (let waited = 0; !started && waited < 5_000; waited += 5) await sleep(5);

    // Act
    await poller.stop();
    await test.put(['user-0:late']);
    await sleep(50);

    // Assess
    expect(test.delivered).toEqual(bodies(6, 1));
  });
  describe('a consumer that gives way to another', () => {
    it('waits with each poll while the other has more than a batch to read, so the other reaches the end of the stream first', async () => {
      // Prepare
      const test = setUp(1);
      const order: string[] = [];
      const first = test.poller(
        async (event) => {
          await sleep(20);
          order.push(...event.Records.map((record) => `first ${bodyOf(record)}`));
        },
        { batchSize: 2, pollIntervalMs: 10 },
      );
      const second = test.poller(async (event) => void order.push(...event.Records.map((record) => `second ${bodyOf(record)}`)), {
        consumer: `${test.consumer}-second`,
        giveWay: () => first.caughtUp(10_000),
        batchSize: 2,
        pollIntervalMs: 10,
      });
      await test.put(bodies(10, 1));
      first.start();
      for (let waited = 0; order.length === 0 && waited < 5_000; waited += 5) await sleep(5);

      // Act
      second.start();
      for (let waited = 0; order.length < 20 && waited < 10_000; waited += 5) await sleep(5);
      await Promise.all([first.stop(), second.stop()]);

      // Assess
      expect(order).toEqual([...bodies(10, 1).map((body) => `first ${body}`), ...bodies(10, 1).map((body) => `second ${body}`)]);
    });

    it('goes on after the longest wait it allows while the other is stuck', async () => {
      // Prepare
      const test = setUp(1);
      let unblock: () => void = () => undefined;
      const blocked = new Promise<void>((resolve) => (unblock = resolve));
      const first = test.poller(() => blocked, { batchSize: 2, pollIntervalMs: 10 });
      const secondDelivered: string[] = [];
      const second = test.poller(async (event) => void secondDelivered.push(...event.Records.map(bodyOf)), {
        consumer: `${test.consumer}-second`,
        giveWay: () => first.caughtUp(20),
        batchSize: 2,
        pollIntervalMs: 10,
      });
      await test.put(bodies(6, 1));
      first.start();
      await sleep(50);

      // Act
      second.start();
      for (let waited = 0; secondDelivered.length < 6 && waited < 10_000; waited += 5) await sleep(5);
      await second.stop();
      unblock();
      await first.stop();

      // Assess
      expect(secondDelivered).toEqual(bodies(6, 1));
    });
  });

  it('reads a stream file deleted and begun again from its start, though its checkpoints point past its records', async () => {
    // Prepare: 12 records handled and checkpointed, then the file is lost with them
    const test = setUp(1);
    const folder = mkdtempSync(join(tmpdir(), 'poller-lmdb-'));
    const options = { streamName: test.consumer, shardCount: 1 };
    const handler: StreamHandler = async (event) => {
      test.delivered.push(...event.Records.map(bodyOf));
    };
    const lost = LmdbEventStream.open(folder, options);
    try {
      await lost.putRecords(bodies(12, 1).map((body) => ({ partitionKey: keyOf(body), data: new TextEncoder().encode(body) })));
      await test.poller(handler, { reader: lost }).drain();
    } finally {
      await lost.close();
    }
    rmSync(folder, { recursive: true, force: true });
    const fresh = LmdbEventStream.open(folder, options);
    const later = ['user-0:100', 'user-0:101', 'user-0:102'];

    try {
      // Act
      await fresh.putRecords(later.map((body) => ({ partitionKey: keyOf(body), data: new TextEncoder().encode(body) })));
      test.delivered.length = 0;
      await test.poller(handler, { reader: fresh }).drain();
      await fresh.putRecords([{ partitionKey: 'user-0', data: new TextEncoder().encode('user-0:103') }]);
      await test.poller(handler, { reader: fresh }).drain();
    } finally {
      await fresh.close();
      rmSync(folder, { recursive: true, force: true });
    }

    // Assess: all of the new file's records, once each: the next poller resumes after them, not from the start again
    expect(test.delivered).toEqual([...later, 'user-0:103']);
  });

  it('reads a stream file restored from an older copy from its start, not after a checkpoint past its records', async () => {
    // Prepare: a copy taken after 3 records; 5 more handled; then the copy comes back
    const test = setUp(1);
    const [folder, copy] = [mkdtempSync(join(tmpdir(), 'poller-lmdb-')), mkdtempSync(join(tmpdir(), 'poller-copy-'))];
    const options = { streamName: test.consumer, shardCount: 1 };
    const encode = (items: readonly string[]) => items.map((body) => ({ partitionKey: keyOf(body), data: new TextEncoder().encode(body) }));
    const handler: StreamHandler = async (event) => {
      test.delivered.push(...event.Records.map(bodyOf));
    };
    const original = LmdbEventStream.open(folder, options);
    await original.putRecords(encode(['user-0:1', 'user-0:2', 'user-0:3']));
    await original.close();
    cpSync(folder, copy, { recursive: true });
    const later = LmdbEventStream.open(folder, options);
    await later.putRecords(encode(['user-0:4', 'user-0:5', 'user-0:6', 'user-0:7', 'user-0:8']));
    await test.poller(handler, { reader: later }).drain();
    await later.close();
    const restored = LmdbEventStream.open(copy, options);

    try {
      // Act
      await restored.putRecords(encode(['user-0:new-1', 'user-0:new-2']));
      test.delivered.length = 0;
      await test.poller(handler, { reader: restored }).drain();
    } finally {
      await restored.close();
      for (const path of [folder, copy]) rmSync(path, { recursive: true, force: true });
    }

    // Assess: the new records, after the restored ones again (the aggregate dedupes those by eventId)
    expect(test.delivered).toEqual(['user-0:1', 'user-0:2', 'user-0:3', 'user-0:new-1', 'user-0:new-2']);
  });

  it('waits out the batching window and hands over what arrived during it in the same batch', async () => {
    // Prepare: a sleep during which more records arrive, once
    const test = setUp(1);
    const batches: string[][] = [];
    const reads: (string | undefined)[] = [];
    let arrivals: string[] = ['user-0:3', 'user-0:4', 'user-0:5'];
    const arrive = async (): Promise<void> => {
      const now = arrivals;
      arrivals = [];
      if (now.length > 0) await test.put(now);
    };
    const reader = {
      listShards: () => test.stream.listShards(),
      streamId: () => test.stream.streamId(),
      readShard: (shardId: string, after: string | undefined, limit: number) => {
        reads.push(after);
        return test.stream.readShard(shardId, after, limit);
      },
    };
    const poller = test.poller(
      async (event) => {
        batches.push(event.Records.map(bodyOf));
      },
      { reader, maxBatchingWindowMs: 60_000, batchSize: 5, sleep: arrive },
    );
    await test.put(['user-0:0', 'user-0:1', 'user-0:2']);

    // Act
    poller.start();
    for (let waited = 0; batches.flat().length < 6 && waited < 5_000; waited += 5) await sleep(5);
    await poller.stop();

    // Assess: one batch of batchSize, in order, then the rest
    expect(batches[0]).toEqual(['user-0:0', 'user-0:1', 'user-0:2', 'user-0:3', 'user-0:4']);
    expect(batches.flat()).toEqual(['user-0:0', 'user-0:1', 'user-0:2', 'user-0:3', 'user-0:4', 'user-0:5']);
    expect(reads.slice(0, 2)).toEqual([undefined, expect.any(String)]);
  });
});
