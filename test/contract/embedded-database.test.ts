import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataDir, embeddedDatabase, embeddedDatabaseClient, type EmbeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import type { SqlDatabase } from '../../functions/adapters/pg/database';

/** The embedded database as the local runtime shares it: an owner and clients over ports. */
describe('embedded database connections', () => {
  let db: EmbeddedDatabase;

  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
    await db.exec('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
  });
  afterAll(() => db.close());

  it('lets a client over a port write in transactions of its own, and read what the owner wrote', async () => {
    const client = embeddedDatabaseClient(db.connect());
    await db.query('INSERT INTO notes VALUES (1, $1)', ['from the owner']);
    await client.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES (2, $1)', ['committed by the client']);
    });
    await expect(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES (3, $1)', ['rolled back']);
        throw new Error('abandon');
      }),
    ).rejects.toThrow('abandon');
    expect((await client.query<{ id: number; body: string }>('SELECT id, body FROM notes ORDER BY id')).rows).toEqual([
      { id: 1, body: 'from the owner' },
      { id: 2, body: 'committed by the client' },
    ]);
    // Closing a client closes its port only: the owner and other clients carry on.
    await client.close();
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 2 }]);
  });

  /** Long enough for messages already posted to another thread to reach it. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

  /**
   * Holds the database in a transaction of the bulk client, queues `queued` statements of the bulk
   * client behind it and then one of `late`, and lets the transaction end: resolves to the place
   * (0-based) at which the database ran the late statement among all the queued ones.
   */
  async function placeOfLateStatement(bulk: SqlDatabase, late: SqlDatabase, queued: number): Promise<number> {
    await db.exec('DROP TABLE IF EXISTS turn_log; CREATE TABLE turn_log (id serial PRIMARY KEY, unit text NOT NULL)');
    const log = 'INSERT INTO turn_log (unit) VALUES ($1)';
    let holdUntil: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (holdUntil = resolve));
    let opened: () => void = () => undefined;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const holding = bulk.transaction(async () => {
      opened();
      await held;
    });
    await isOpen;
    const waiting = Array.from({ length: queued }, (_, index) => (index % 2 === 0 ? bulk.query(log, ['bulk']) : bulk.transaction((tx) => tx.query(log, ['bulk']))));
    // Messages of different ports reach the database's thread in no promised order: a late
    // statement sent at once could arrive before the queue it is meant to come after (under CI's
    // load an ordinary one ran first). Each is given time to arrive while the hold keeps the
    // queue waiting; the order asserted is the queue's, not a timing.
    await settle();
    waiting.push(late.query(log, ['late']));
    await settle();
    holdUntil();
    await Promise.all([holding, ...waiting]);
    const units = (await db.query<{ unit: string }>('SELECT unit FROM turn_log ORDER BY id')).rows.map((row) => row.unit);
    expect(units).toHaveLength(queued + 1);
    return units.indexOf('late');
  }

  it("runs an urgent connection's statement before the statements and transactions other connections queued before it", async () => {
    const [bulk, ordinary] = [db.connect(), db.connect()].map(embeddedDatabaseClient) as [SqlDatabase, SqlDatabase];
    const urgent = embeddedDatabaseClient(db.connect({ urgent: true }));
    try {
      expect(await placeOfLateStatement(bulk, urgent, 60)).toBeLessThan(30);
      // The control: an ordinary connection's statement waits its turn behind all of them.
      expect(await placeOfLateStatement(bulk, ordinary, 60)).toBe(60);
    } finally {
      await Promise.all([bulk, urgent, ordinary].map((client) => client.close()));
    }
  });
});

/** What a data folder costs in memory and on disk: PostgreSQL's server defaults do not suit an embedded instance. */
describe('embedded database settings', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'embedded-settings-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const settingsOf = async (db: EmbeddedDatabase) =>
    (await db.query<{ name: string; setting: string; unit: string | null }>("SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'min_wal_size') ORDER BY name")).rows;

  it('keeps a small buffer pool unless told otherwise, and a write-ahead log of at most 32 MB, in a new folder and when reopened', async () => {
    const expected = [
      { name: 'max_wal_size', setting: '32', unit: 'MB' },
      { name: 'min_wal_size', setting: '32', unit: 'MB' },
      // In 8 kB pages: 16 MB.
      { name: 'shared_buffers', setting: '2048', unit: '8kB' },
    ];
    const created = await embeddedDatabase(join(dataDir, 'pg'));
    await created.exec('CREATE TABLE kept (id int)');
    expect(await settingsOf(created)).toEqual(expected);
    await created.close();
    const reopened = await embeddedDatabase(join(dataDir, 'pg'), { sharedBuffersMb: 64 });
    // The folder made by the process that only created it is the one opened after it.
    expect((await reopened.query('SELECT * FROM kept')).rows).toEqual([]);
    expect(await settingsOf(reopened)).toEqual([...expected.slice(0, 2), { name: 'shared_buffers', setting: '8192', unit: '8kB' }]);
    await reopened.close();
  });
});

describe('embedded database write-ahead log', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'embedded-wal-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const walMb = () => {
    const wal = join(dataDir, 'pg', 'pg_wal');
    return readdirSync(wal).filter((name) => /^[0-9A-F]{24}$/.test(name)).reduce((total, name) => total + statSync(join(wal, name)).size, 0) / 1024 / 1024;
  };

  it('is recycled by the checkpoints the database writes by itself, so it stays near its 32 MB bound whatever is written', async () => {
    const db = await embeddedDatabase(join(dataDir, 'pg'), { checkpointEveryMs: 200 });
    try {
      await db.exec('CREATE TABLE filler (id int, body text)');
      // About 160 MB of WAL, five times what a checkpoint keeps.
      for (let round = 0; round < 6; round += 1) await db.query("INSERT INTO filler SELECT n, repeat('x', 200) FROM generate_series(1, 100000) AS n");
      while (walMb() > 32) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(walMb()).toBeLessThanOrEqual(32);
    } finally {
      await db.close();
    }
  });
});

describe('embedded database creation', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'embedded-create-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const residentMb = () => process.memoryUsage().rss / 1024 / 1024;

  // initdb in a thread of this process left about 160 MB of malloc arenas resident after it ended.
  it('leaves none of the memory initdb used resident in the process that asked for the folder', async () => {
    const before = residentMb();
    await createDataDir(join(dataDir, 'pg'), { shared_buffers: '16MB' });
    expect(existsSync(join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    expect(residentMb() - before).toBeLessThan(50);
  });

  it('says which folder it could not create, and why', async () => {
    const occupied = join(dataDir, 'a-file');
    writeFileSync(occupied, 'not a folder');
    await expect(createDataDir(occupied, {})).rejects.toThrow(`PGlite could not create ${occupied}`);
  });
});
