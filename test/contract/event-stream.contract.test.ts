import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { kinesisClient, sharedClientConfig } from '../../functions/adapters/aws/clients';
import { KinesisEventStream, ensureStream } from '../../functions/adapters/aws/kinesis-stream';
import { LmdbEventStream } from '../../functions/adapters/local/lmdb-event-stream';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlEventStream } from '../../functions/adapters/pg/sql-stream';
import { ForeignSequenceNumberError, type EventStreamReader, type HandledRecords, type EventStreamWriter, type StreamRecord, type StreamRecordInput } from '../../functions/ports';
import { describeWithServices, freshPostgresUrl, urls } from '../support/services';

type EventStream = EventStreamWriter & EventStreamReader;

interface StreamFixture {
  readonly stream: EventStream;
  /** Another adapter instance over the same stream, as after a restart. */
  reopen(): Promise<EventStreamReader>;
  close(): Promise<void>;
}

const SHARD_COUNT = 3;

function eventStreamContract(open: () => Promise<StreamFixture>): void {
  let fixture: StreamFixture;

  beforeAll(async () => {
    fixture = await open();
  });

  afterAll(async () => {
    await fixture.close();
  });

  it('reads back exactly the records put, per shard and in order', async () => {
    // Prepare
    const run = randomBytes(4).toString('hex');
    const input = Array.from({ length: 30 }, (_, index) => record(`${run}-user-${index % 7}`, `${run}:${index}`));

    // Act
    const results = await fixture.stream.putRecords(input);
    const byShard = await readAll(fixture.stream);

    // Assess
    expect(results.every((result) => result.ok)).toBe(true);
    for (const shardId of await fixture.stream.listShards()) {
      const expected = input
        .map((item, index) => ({ item, result: results[index] }))
        .filter(({ result }) => result?.ok && result.shardId === shardId)
        .map(({ item, result }) => ({ partitionKey: item.partitionKey, text: text(item.data), sequenceNumber: result?.ok ? result.sequenceNumber : '' }));
      const read = (byShard.get(shardId) ?? [])
        .filter((item) => item.partitionKey.startsWith(run))
        .map((item) => ({ partitionKey: item.partitionKey, text: text(item.data), sequenceNumber: item.sequenceNumber }));
      expect(read).toEqual(expected);
    }
  });

  it('puts every record of one partition key in the same shard', async () => {
    // Prepare
    const key = `user-${randomBytes(4).toString('hex')}`;

    // Act
    const first = await fixture.stream.putRecords([record(key, 'a'), record(key, 'b')]);
    const second = await fixture.stream.putRecords([record(key, 'c')]);

    // Assess
    const shards = new Set([...first, ...second].map((result) => (result.ok ? result.shardId : 'failed')));
    expect(shards.size).toBe(1);
    expect(await fixture.stream.listShards()).toContain([...shards][0]);
  });

  it('chooses the shard from the MD5 of the partition key, as Kinesis does', async () => {
    // Prepare
    const keys = Array.from({ length: 12 }, (_, index) => `md5-${randomBytes(4).toString('hex')}-${index}`);
    const shardIds = [...(await fixture.stream.listShards())].sort();

    // Act
    const results = await fixture.stream.putRecords(keys.map((key) => record(key, key)));

    // Assess
    const expected = keys.map((key) => {
      const hash = BigInt(`0x${createHash('md5').update(key).digest('hex')}`);
      return shardIds[Number((hash * BigInt(SHARD_COUNT)) >> 128n)];
    });
    expect(results.map((result) => (result.ok ? result.shardId : 'failed'))).toEqual(expected);
  });

  it('reads only the records after a given sequence number', async () => {
    // Prepare
    const key = `user-${randomBytes(4).toString('hex')}`;
    const results = await fixture.stream.putRecords([record(key, 'one'), record(key, 'two'), record(key, 'three')]);
    const [first] = results;
    if (!first?.ok) throw new Error('put failed');

    // Act
    const later = await fixture.stream.readShard(first.shardId, first.sequenceNumber, 1_000);

    // Assess
    const mine = later.filter((item) => item.partitionKey === key);
    expect(mine.map((item) => text(item.data))).toEqual(['two', 'three']);
    expect(mine.map((item) => item.sequenceNumber)).toEqual(results.slice(1).map((result) => (result.ok ? result.sequenceNumber : '')));
  });

  it('takes a put of 500 records', async () => {
    // Prepare
    const run = randomBytes(4).toString('hex');
    const input = Array.from({ length: 500 }, (_, index) => record(`${run}-${index}`, `${index}`));

    // Act
    const results = await fixture.stream.putRecords(input);
    const byShard = await readAll(fixture.stream);

    // Assess
    expect(results.filter((result) => result.ok)).toHaveLength(500);
    const read = [...byShard.values()].flat().filter((item) => item.partitionKey.startsWith(run));
    expect(read).toHaveLength(500);
    expect(new Set(results.map((result) => (result.ok ? result.shardId : ''))).size).toBe(SHARD_COUNT);
  });

  it('reads back binary data byte for byte', async () => {
    // Prepare
    const key = `user-${randomBytes(4).toString('hex')}`;
    const data = [new Uint8Array(randomBytes(3_000)), new Uint8Array([0, 255, 10, 13]), new Uint8Array(randomBytes(57))];

    // Act
    const results = await fixture.stream.putRecords(data.map((bytes) => ({ partitionKey: key, data: bytes })));
    const [first] = results;
    if (!first?.ok) throw new Error('put failed');
    const read = (await fixture.stream.readShard(first.shardId, String(BigInt(first.sequenceNumber) - 1n), 10)).filter((item) => item.partitionKey === key);

    // Assess
    expect(read.map((item) => Buffer.from(item.data).toString('hex'))).toEqual(data.map((bytes) => Buffer.from(bytes).toString('hex')));
    expect(read.every((item) => Object.getPrototypeOf(item.data) === Uint8Array.prototype)).toBe(true);
  });

  it('keeps accepted records for a new reader instance', async () => {
    // Prepare
    const key = `user-${randomBytes(4).toString('hex')}`;
    const [result] = await fixture.stream.putRecords([record(key, 'kept')]);
    if (!result?.ok) throw new Error('put failed');

    // Act
    const reader = await fixture.reopen();
    const read = await readAll(reader);

    // Assess
    const found = (read.get(result.shardId) ?? []).filter((item) => item.partitionKey === key);
    expect(found.map((item) => ({ text: text(item.data), sequenceNumber: item.sequenceNumber }))).toEqual([
      { text: 'kept', sequenceNumber: result.sequenceNumber },
    ]);
    expect(found[0]?.approximateArrivalTimestamp).toBeInstanceOf(Date);
  });

  it('answers the same stream id to every reader of the same stream', async () => {
    // Act
    const ids = [await fixture.stream.streamId(), await fixture.stream.streamId(), await (await fixture.reopen()).streamId()];

    // Assess
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).not.toBe('');
  });
}

function record(partitionKey: string, body: string): StreamRecordInput {
  return { partitionKey, data: new TextEncoder().encode(JSON.stringify({ body })) };
}

function text(data: Uint8Array): string {
  return (JSON.parse(new TextDecoder().decode(data)) as { body: string }).body;
}

async function readAll(reader: EventStreamReader): Promise<Map<string, StreamRecord[]>> {
  const byShard = new Map<string, StreamRecord[]>();
  for (const shardId of await reader.listShards()) {
    const records: StreamRecord[] = [];
    for (;;) {
      const page = await reader.readShard(shardId, records[records.length - 1]?.sequenceNumber, 1_000);
      if (page.length === 0) break;
      records.push(...page);
    }
    byShard.set(shardId, records);
  }
  return byShard;
}

/** `connect` answers a new connection to the same database where it can (PGlite in memory cannot). */
async function sqlStreamFixture(connect: () => Promise<SqlDatabase>, cleanUp: () => Promise<void>): Promise<StreamFixture> {
  const db = await connect();
  await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  const options = { streamName: 'events', shardCount: SHARD_COUNT };
  const opened = [db];
  return {
    stream: new SqlEventStream(db, options),
    async reopen() {
      const another = await connect();
      if (!opened.includes(another)) opened.push(another);
      return new SqlEventStream(another, options);
    },
    async close() {
      for (const each of opened) await each.close();
      await cleanUp();
    },
  };
}

describe('SQL event stream on PGlite', () => {
  eventStreamContract(async () => {
    const db = await embeddedDatabase(undefined);
    return sqlStreamFixture(async () => db, async () => undefined);
  });

  it('trims records past the retention period and keeps the rest readable', async () => {
    const db = await embeddedDatabase(undefined);
    await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
    const stream = new SqlEventStream(db, { streamName: 'trimmed', shardCount: 1 });
    await stream.putRecords([{ partitionKey: 'a', data: new Uint8Array([1]) }]);
    await db.query(`UPDATE stream_records SET arrived_at = now() - interval '25 hours'`);
    await stream.putRecords([{ partitionKey: 'a', data: new Uint8Array([2]) }]);

    const trimmed = await stream.trimBefore(new Date(Date.now() - 24 * 3_600_000));

    const [shard] = await stream.listShards();
    const left = await stream.readShard(shard!, undefined, 10);
    await db.close();
    expect(trimmed).toBe(1);
    expect(left.map((record) => [...record.data])).toEqual([[2]]);
  });
});

describe('SQL event stream on PGlite, trimmed through a sequence number', () => {
  it('trims the records of a shard through a sequence number and keeps the later ones and other shards', async () => {
    const db = await embeddedDatabase(undefined);
    try {
      await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
      await expectTrimThrough(new SqlEventStream(db, { streamName: 'handled', shardCount: 2 }));
    } finally {
      await db.close();
    }
  });
});

/** What the runtime's trim of handled records relies on (functions/use-cases/trim-stream.ts). */
async function expectTrimThrough(stream: EventStream & HandledRecords): Promise<void> {
  const put = await stream.putRecords(Array.from({ length: 40 }, (_, i) => record(`user-${i}`, `body-${i}`)));
  const [shard, other] = await stream.listShards();
  const inShard = put.filter((result) => result.ok && result.shardId === shard).map((result) => (result.ok ? Number(result.sequenceNumber) : 0));
  const through = inShard[Math.floor(inShard.length / 2)]!;

  const trimmed = await stream.trimThrough(shard!, String(through));

  const left = await readAll(stream);
  expect(trimmed).toBe(inShard.filter((sequence) => sequence <= through).length);
  expect(left.get(shard!)!.map((item) => Number(item.sequenceNumber))).toEqual(inShard.filter((sequence) => sequence > through));
  expect(left.get(other!)!.length).toBe(put.filter((result) => result.ok && result.shardId === other).length);
}

describeWithServices(['postgres'], 'SQL event stream on PostgreSQL', () => {
  eventStreamContract(async () => {
    const schema = await freshPostgresUrl();
    return sqlStreamFixture(async () => postgresDatabase(schema.url), () => schema.drop());
  });

  it('makes sequence numbers visible in commit order under concurrent writers', async () => {
    // Writers on connections of their own, and a reader on another
    const schema = await freshPostgresUrl();
    const db = postgresDatabase(schema.url, { max: 8 });
    const readerDb = postgresDatabase(schema.url, { max: 1 });
    try {
      await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
      const options = { streamName: 'concurrent', shardCount: 1 };
      await expectCommitOrder(new SqlEventStream(db, options), new SqlEventStream(readerDb, options));
    } finally {
      await readerDb.close();
      await db.close();
      await schema.drop();
    }
  });
});

/**
 * Concurrent puts while a reader polls "after the last one I saw": the reader misses nothing, so
 * sequence numbers became visible in the order they were given out; each put's numbers rise.
 */
async function expectCommitOrder(writer: EventStreamWriter, reader: EventStreamReader): Promise<void> {
  const [shardId] = await reader.listShards();
  const seen: string[] = [];
  let writing = true;
  const polling = (async () => {
    for (let more = true; more; ) {
      more = writing;
      const page = await reader.readShard(shardId!, seen[seen.length - 1], 1_000);
      seen.push(...page.map((item) => item.sequenceNumber));
      if (page.length > 0) more = true;
    }
  })();

  const puts = await Promise.all(
    Array.from({ length: 40 }, (_, call) =>
      writer.putRecords(Array.from({ length: 25 }, (__, index) => ({ partitionKey: `k-${call}-${index}`, data: new Uint8Array([call, index]) }))),
    ),
  );
  writing = false;
  await polling;

  const put = puts.flat().map((result) => (result.ok ? result.sequenceNumber : 'failed'));
  expect(put).not.toContain('failed');
  expect([...seen].sort()).toEqual([...put].sort());
  for (const call of puts) {
    const numbers = call.map((result) => (result.ok ? BigInt(result.sequenceNumber) : 0n));
    expect(numbers.every((value, index) => index === 0 || value > numbers[index - 1]!)).toBe(true);
  }
}

describe('LMDB event stream (the embedded mode)', () => {
  const folders: string[] = [];
  const folder = () => {
    const path = mkdtempSync(join(tmpdir(), 'lmdb-stream-'));
    folders.push(path);
    return path;
  };
  afterAll(() => {
    for (const path of folders) rmSync(path, { recursive: true, force: true });
  });

  eventStreamContract(async () => {
    const path = folder();
    const options = { streamName: 'events', shardCount: SHARD_COUNT };
    const opened = [LmdbEventStream.open(path, options)];
    return {
      stream: opened[0]!,
      async reopen() {
        opened.push(LmdbEventStream.open(path, options));
        return opened[opened.length - 1]!;
      },
      async close() {
        for (const stream of opened) await stream.close();
      },
    };
  });

  it('answers another stream id once its file was deleted, so checkpoints of the lost records are not trusted', async () => {
    // Prepare
    const path = folder();
    const options = { streamName: 'replaced', shardCount: 1 };
    const lost = LmdbEventStream.open(path, options);
    const before = await lost.streamId();
    await lost.putRecords([record('user-0', 'lost')]);
    await lost.close();
    rmSync(path, { recursive: true, force: true });

    // Act
    const fresh = LmdbEventStream.open(path, options);
    const [put] = await fresh.putRecords([record('user-0', 'new')]);
    const after = await fresh.streamId();
    await fresh.close();

    // Assess: the new file numbers from 1 again, under another id
    expect(put).toMatchObject({ ok: true, sequenceNumber: '1' });
    expect(after).not.toBe(before);
  });

  it('refuses to read after a sequence number it never gave out, as a file restored from an older copy would be asked', async () => {
    const stream = LmdbEventStream.open(folder(), { streamName: 'restored', shardCount: 1 });
    try {
      const [put] = await stream.putRecords([record('user-0', 'only')]);
      const [shard] = await stream.listShards();

      await expect(stream.readShard(shard!, '2', 10)).rejects.toBeInstanceOf(ForeignSequenceNumberError);
      expect(put).toMatchObject({ ok: true, sequenceNumber: '1' });
      expect(await stream.readShard(shard!, '1', 10)).toEqual([]);
    } finally {
      await stream.close();
    }
  });

  it('makes sequence numbers visible in commit order under concurrent writers', async () => {
    const path = folder();
    const options = { streamName: 'concurrent', shardCount: 1 };
    const [writer, reader] = [LmdbEventStream.open(path, options), LmdbEventStream.open(path, options)];
    try {
      await expectCommitOrder(writer, reader);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('trims records past the retention period and keeps the rest readable', async () => {
    const stream = LmdbEventStream.open(folder(), { streamName: 'trimmed', shardCount: 1 });
    try {
      await stream.putRecords([{ partitionKey: 'a', data: new Uint8Array([1]) }]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const cutoff = new Date();
      await stream.putRecords([{ partitionKey: 'a', data: new Uint8Array([2]) }]);

      const trimmed = await stream.trimBefore(cutoff);

      const [shard] = await stream.listShards();
      expect(trimmed).toBe(1);
      expect((await stream.readShard(shard!, undefined, 10)).map((record) => [...record.data])).toEqual([[2]]);
    } finally {
      await stream.close();
    }
  });

  it('trims the records of a shard through a sequence number and keeps the later ones and other shards', async () => {
    const stream = LmdbEventStream.open(folder(), { streamName: 'handled', shardCount: 2 });
    try {
      await expectTrimThrough(stream);
    } finally {
      await stream.close();
    }
  });

  it('gives the free pages of a trimmed backlog back to the file system when compacted, keeping its records, numbers and id', async () => {
    const path = folder();
    const options = { streamName: 'compacted', shardCount: 1 };
    let stream = LmdbEventStream.open(path, options);
    const id = await stream.streamId();
    const put = await stream.putRecords(Array.from({ length: 4_000 }, (_, i) => record(`user-${i % 50}`, `${i}`.padEnd(900, '.'))));
    const [shard] = await stream.listShards();
    await stream.trimThrough(shard!, '3990');
    await stream.close();
    const before = statSync(join(path, 'data.mdb')).size;

    expect(await LmdbEventStream.compact(path, { minFreeBytes: 1024 * 1024 })).toBe(true);

    expect(statSync(join(path, 'data.mdb')).size).toBeLessThan(before / 10);
    stream = LmdbEventStream.open(path, options);
    try {
      expect(await stream.streamId()).toBe(id);
      const left = await stream.readShard(shard!, undefined, 100);
      expect(left.map((item) => item.sequenceNumber)).toEqual(put.slice(3_990).map((result) => (result.ok ? result.sequenceNumber : '')));
      expect(await stream.putRecords([record('user-0', 'next')])).toEqual([expect.objectContaining({ ok: true, sequenceNumber: '4001' })]);
    } finally {
      await stream.close();
    }
    // Nothing to give back a second time.
    expect(await LmdbEventStream.compact(path, { minFreeBytes: 1024 * 1024 })).toBe(false);
  });

  it('adopts the records of an earlier stream with their numbers and numbers new ones after them', async () => {
    const earlier = await embeddedDatabase(undefined);
    const stream = LmdbEventStream.open(folder(), { streamName: 'adopted', shardCount: 2 });
    try {
      await migrate(earlier, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
      const sql = new SqlEventStream(earlier, { streamName: 'adopted', shardCount: 2 });
      const old = await sql.putRecords(Array.from({ length: 6 }, (_, i) => record(`user-${i}`, `old-${i}`)));
      const oldRecords = [...(await readAll(sql)).values()].flat();

      expect(stream.isStarted()).toBe(false);
      await stream.adopt(oldRecords, 6);
      const [fresh] = await stream.putRecords([record('user-0', 'new')]);

      expect(stream.isStarted()).toBe(true);
      expect(fresh).toMatchObject({ ok: true, sequenceNumber: '7' });
      const read = [...(await readAll(stream)).values()].flat();
      expect(read.map((item) => [item.sequenceNumber, text(item.data)]).sort()).toEqual([
        ...old.map((result, i) => [result.ok ? result.sequenceNumber : '', `old-${i}`]),
        ['7', 'new'],
      ].sort());
      await expect(stream.adopt(oldRecords, 6)).rejects.toThrow(/already holds records/);
    } finally {
      await stream.close();
      await earlier.close();
    }
  });
});

describeWithServices(['moto'], 'Kinesis event stream on moto', () => {
  eventStreamContract(async () => {
    const client = kinesisClient({ endpoint: urls.moto });
    const streamName = `contract-${randomBytes(6).toString('hex')}`;
    await ensureStream(client, streamName, SHARD_COUNT);
    const reopened: ReturnType<typeof kinesisClient>[] = [];
    return {
      stream: new KinesisEventStream(client, streamName),
      async reopen() {
        const another = kinesisClient({ endpoint: urls.moto });
        reopened.push(another);
        return new KinesisEventStream(another, streamName);
      },
      async close() {
        for (const each of [client, ...reopened]) each.destroy();
      },
    };
  });

  it('answers another stream id once the stream was deleted and created again under its name', async () => {
    // Prepare
    const client = kinesisClient({ endpoint: urls.moto });
    const streamName = `recreated-${randomBytes(6).toString('hex')}`;
    const stream = new KinesisEventStream(client, streamName);
    try {
      await ensureStream(client, streamName, 1);
      const before = await stream.streamId();
      await client.send(new DeleteStreamCommand({ StreamName: streamName }));

      // Act
      await ensureStream(client, streamName, 1);

      // Assess
      expect(await stream.streamId()).not.toBe(before);
    } finally {
      await client.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => undefined);
      client.destroy();
    }
  });
});

describe('Kinesis event stream failures', () => {
  // The mock replaces `send` of every KinesisClient, so it must not outlive these tests.
  let kinesis: ReturnType<typeof mockClient>;

  beforeEach(() => {
    kinesis = mockClient(KinesisClient);
  });

  afterEach(() => {
    kinesis.restore();
  });

  it('answers per-record failures in input order', async () => {
    // Prepare
    kinesis.on(PutRecordsCommand).resolves({
      FailedRecordCount: 1,
      Records: [
        { ShardId: 'shardId-000000000000', SequenceNumber: '1' },
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' },
      ],
    });
    const stream = new KinesisEventStream(new KinesisClient({ region: 'us-east-1' }), 'events');

    // Act
    const results = await stream.putRecords([record('a', 'one'), record('b', 'two')]);

    // Assess
    expect(results).toEqual([
      { ok: true, shardId: 'shardId-000000000000', sequenceNumber: '1' },
      { ok: false, errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded for shard' },
    ]);
  });

  it('fails every record of a request Kinesis refused as a whole, without retrying it', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded for stream'), { name: 'LimitExceededException' });
    kinesis.on(PutRecordsCommand).rejects(throttled);
    const stream = new KinesisEventStream(new KinesisClient({ region: 'us-east-1', maxAttempts: 1 }), 'events');

    // Act
    const results = await stream.putRecords([record('a', 'one'), record('b', 'two')]);

    // Assess
    expect(results).toEqual([
      { ok: false, errorCode: 'LimitExceededException', errorMessage: 'Rate exceeded for stream' },
      { ok: false, errorCode: 'LimitExceededException', errorMessage: 'Rate exceeded for stream' },
    ]);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(1);
  });

  it('reports a starting sequence number Kinesis says did not come from this stream as foreign, and reads from the start as asked', async () => {
    // Prepare
    const foreign = Object.assign(new Error('StartingSequenceNumber 20 used in GetShardIterator on shard shardId-000000000000 in stream events is invalid because it did not come from this stream.'), { name: 'InvalidArgumentException' });
    kinesis.on(GetShardIteratorCommand, { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' }).rejects(foreign);
    kinesis.on(GetShardIteratorCommand, { ShardIteratorType: 'TRIM_HORIZON' }).resolves({ ShardIterator: 'from-the-start' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [], MillisBehindLatest: 0 });
    const stream = new KinesisEventStream(new KinesisClient({ region: 'us-east-1', maxAttempts: 1 }), 'events');

    // Act
    const resumed = stream.readShard('shardId-000000000000', '20', 10);
    const fromStart = await stream.readShard('shardId-000000000000', undefined, 10);

    // Assess
    await expect(resumed).rejects.toBeInstanceOf(ForeignSequenceNumberError);
    expect(fromStart).toEqual([]);
  });
});

describe('AWS client configuration', () => {
  it('defaults the region and, against an emulator, signs with placeholder credentials', () => {
    // Act
    const emulated = sharedClientConfig({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' } });
    const real = sharedClientConfig({ env: { AWS_REGION: 'eu-west-1' } });
    const configured = sharedClientConfig({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_PROFILE: 'dev' } });

    // Assess
    expect(emulated).toMatchObject({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    expect(real.region).toBe('eu-west-1');
    expect(real.credentials).toBeUndefined();
    expect(configured.credentials).toBeUndefined();
  });
});

/** Erasure: the streams that can forget a subject's records forget exactly those. */
describe.each([
  [
    'LMDB',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stream-erase-'));
      const stream = LmdbEventStream.open(dir, { streamName: 'events', shardCount: SHARD_COUNT });
      return { stream, close: async () => (await stream.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  ],
  [
    'SQL on PGlite',
    async () => {
      const db = await embeddedDatabase(undefined);
      await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
      return { stream: new SqlEventStream(db, { streamName: 'events', shardCount: SHARD_COUNT }), close: () => db.close() };
    },
  ],
])('%s event stream erasure', (_name, open) => {
  it("deletes every record of one partition key and no other's", async () => {
    const { stream, close } = await open();
    try {
      await stream.putRecords(['subject-a', 'subject-b', 'subject-a', 'subject-c', 'subject-a'].map((key, i) => record(key, `${key}-${i}`)));

      const erased = await stream.eraseRecordsOf('subject-a');
      const again = await stream.eraseRecordsOf('subject-a');
      const left = [...(await readAll(stream)).values()].flat().map((item) => item.partitionKey).sort();

      expect([erased, again]).toEqual([3, 0]);
      expect(left).toEqual(['subject-b', 'subject-c']);
    } finally {
      await close();
    }
  });
});
