import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlCheckpointStore } from '../../functions/adapters/pg/sql-checkpoint-store';
import { parseEnv } from '../../functions/config/env';
import { localEnv } from '../../functions/config/local';
import { STREAM_CONSUMERS, openStream, type OpenedStream } from '../../functions/local/adapters';
import { describeWithServices, urls } from '../support/services';

/**
 * With DATABASE_URL the local runtime's stream is a table of PostgreSQL: what the trim drops must
 * not keep its space until autovacuum comes (it held a whole load's backlog after the demo).
 */
describeWithServices(['postgres'], 'the stream table of the PostgreSQL mode after a trim', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let dataDir: string;
  let opened: OpenedStream;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    // A database of its own: VACUUM keeps rows that a transaction of the same database might
    // still see, and other suites keep transactions open in the shared one.
    const name = `stream_trim_${randomBytes(6).toString('hex')}`;
    const admin = postgresDatabase(urls.postgres);
    await admin.exec(`CREATE DATABASE ${name}`);
    drop = async () => {
      await admin.exec(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.close();
    };
    const url = new URL(urls.postgres);
    url.pathname = `/${name}`;
    db = postgresDatabase(String(url));
    await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
    dataDir = mkdtempSync(join(tmpdir(), 'stream-table-trim-'));
    const config = parseEnv(localEnv, { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: String(url), STREAM_NAME: 'events-trim' });
    opened = await openStream(config, db, closers);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await db.close();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Heap and indexes: a VACUUM gives back emptied heap pages, never index pages.
  const tableBytes = async () => (await db.query<{ bytes: number }>("SELECT pg_total_relation_size('stream_records')::float8 AS bytes")).rows[0]!.bytes;

  it('gives back the space of the records every consumer has handled', async () => {
    const record = { partitionKey: 'k', data: new Uint8Array(800).fill(7) };
    let last = 0n;
    for (let put = 0; put < 10; put++) {
      for (const result of await opened.stream.putRecords(Array.from({ length: 500 }, (_, i) => ({ ...record, partitionKey: `k${i}` })))) {
        if (!result.ok) throw new Error(result.errorMessage);
        if (BigInt(result.sequenceNumber) > last) last = BigInt(result.sequenceNumber);
      }
    }
    const filled = await tableBytes();
    expect(filled).toBeGreaterThan(4_000_000);

    const checkpoints = new SqlCheckpointStore(db);
    const streamId = await opened.stream.streamId();
    for (const shardId of await opened.stream.listShards()) {
      for (const consumer of Object.values(STREAM_CONSUMERS)) await checkpoints.set(consumer, shardId, { sequenceNumber: String(last), streamId });
    }

    expect(await opened.trim!()).toBe(5_000);
    // A DELETE alone leaves the table its size, and a VACUUM its indexes' (~300 KB here); emptied,
    // the table is truncated to its indexes' first pages.
    expect(await tableBytes()).toBeLessThanOrEqual(64 * 1024);
  });

  it('vacuums instead while records are left, which later puts then reuse', async () => {
    const put = async () => {
      for (let i = 0; i < 4; i++) await opened.stream.putRecords(Array.from({ length: 500 }, (_, n) => ({ partitionKey: `p${n}`, data: new Uint8Array(800).fill(1) })));
    };
    const before = await tableBytes();
    await put();
    const filled = (await tableBytes()) - before;
    // Every shard but one handled: the trim leaves that one's records.
    const streamId = await opened.stream.streamId();
    const checkpoints = new SqlCheckpointStore(db);
    const left = await db.query<{ shard_id: string; last: string }>('SELECT shard_id, max(sequence)::text AS last FROM stream_records GROUP BY shard_id');
    const [kept, ...handled] = left.rows;
    for (const { shard_id: shardId, last } of handled) {
      for (const consumer of Object.values(STREAM_CONSUMERS)) await checkpoints.set(consumer, shardId, { sequenceNumber: last, streamId });
    }
    expect(kept).toBeDefined();
    expect(await opened.trim!()).toBeGreaterThan(0);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stream_records')).rows[0]!.n).toBeGreaterThan(0);
    await put();
    // Twice the size, had the trimmed rows kept their space; the index pages come back only after a later VACUUM.
    expect((await tableBytes()) - before).toBeLessThan(1.75 * filled);
  });
});
