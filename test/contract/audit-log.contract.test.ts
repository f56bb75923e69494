import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { randomBytes } from 'node:crypto';
import { embeddedDatabase, type EmbeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlAuditLog } from '../../functions/adapters/pg/sql-audit-log';
import type { AuditRecord } from '../../functions/domain/privacy/audit';
import { describeWithServices, freshPostgresUrl } from '../support/services';

interface AuditFixture {
  readonly db: SqlDatabase;
  readonly log: SqlAuditLog;
  close(): Promise<void>;
}

const record = (n: number, at = `2026-11-20T10:${String(n % 60).padStart(2, '0')}:00.000Z`): AuditRecord => ({
  at,
  actor: `analyst-${n}`,
  role: 'analyst',
  action: 'read',
  resource: 'GET /v1/metrics/{metric}',
  purpose: 'quality_improvement',
  details: { metric: 'events', n },
});

/** What someone with the database owner's rights could do: switch the guard off and edit. */
async function tamper(db: SqlDatabase, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await tx.query(sql, params);
    await tx.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
  });
}

function auditLogContract(open: () => Promise<AuditFixture>): void {
  let fixture: AuditFixture;

  beforeEach(async () => {
    fixture = await open();
    for (let n = 1; n <= 6; n += 1) await fixture.log.append(record(n));
  });
  afterEach(async () => {
    await fixture.close();
  });

  it('lists entries newest first, each chained to the one before, and verifies them', async () => {
    const page = await fixture.log.list({ limit: 4 });
    const older = await fixture.log.list({ beforeSeq: page[page.length - 1]!.seq, limit: 4 });

    expect(page.map((entry) => entry.seq)).toEqual([6, 5, 4, 3]);
    expect(older.map((entry) => entry.seq)).toEqual([2, 1]);
    expect(page[0]).toEqual({ ...record(6), seq: 6, prevHash: page[1]!.hash, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(older[1]!.prevHash).toBe('0'.repeat(64));
    expect(await fixture.log.verify()).toEqual({ ok: true, entries: 6 });
  });

  it.each([
    ['UPDATE audit_log SET body = body WHERE seq = 2', 'UPDATE'],
    ['DELETE FROM audit_log WHERE seq = 2', 'DELETE'],
    ['TRUNCATE audit_log', 'TRUNCATE'],
  ])('refuses %s', async (sql, operation) => {
    await expect(fixture.db.query(sql)).rejects.toThrow(`audit_log is append-only: ${operation} refused`);
    expect(await fixture.log.verify()).toEqual({ ok: true, entries: 6 });
  });

  it('catches a changed entry', async () => {
    await tamper(fixture.db, `UPDATE audit_log SET body = replace(body, 'analyst-3', 'analyst-9') WHERE seq = 3`);

    expect(await fixture.log.verify()).toMatchObject({ ok: false, seq: 3, entries: 2 });
  });

  it('catches a removed entry', async () => {
    await tamper(fixture.db, 'DELETE FROM audit_log WHERE seq = 4');

    expect(await fixture.log.verify()).toMatchObject({ ok: false, seq: 5 });
  });

  it('catches two reordered entries', async () => {
    await tamper(fixture.db, `UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 102 ELSE 103 END WHERE seq IN (2, 3)`);
    await tamper(fixture.db, `UPDATE audit_log SET seq = CASE seq WHEN 102 THEN 3 ELSE 2 END WHERE seq IN (102, 103)`);

    expect(await fixture.log.verify()).toMatchObject({ ok: false, seq: 2 });
  });

  it('catches entries cut from the end', async () => {
    await tamper(fixture.db, 'DELETE FROM audit_log WHERE seq >= 5');

    expect(await fixture.log.verify()).toMatchObject({ ok: false, problem: expect.stringContaining('cut from the end') });
  });

  it('purges entries older than a cutoff, oldest first, and the rest still verify from the new anchor', async () => {
    await fixture.log.append(record(7, '2026-11-25T10:00:00.000Z'));

    const removed = await fixture.log.purgeBefore(new Date('2026-11-20T10:04:00.000Z'));
    await fixture.log.append(record(8, '2026-11-25T11:00:00.000Z'));

    expect(removed).toBe(3);
    expect((await fixture.log.list({ limit: 100 })).map((entry) => entry.seq)).toEqual([8, 7, 6, 5, 4]);
    expect(await fixture.log.verify()).toEqual({ ok: true, entries: 5 });
  });
}

async function migrated(db: SqlDatabase, cleanUp: () => Promise<void>): Promise<AuditFixture> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  return {
    db,
    log: new SqlAuditLog(db),
    async close() {
      await db.close();
      await cleanUp();
    },
  };
}

describe('SQL audit log on PGlite', () => {
  // One PGlite for the file (its start costs seconds), a fresh schema for each test.
  let shared: EmbeddedDatabase | undefined;
  afterAll(async () => {
    await shared?.close();
  });
  auditLogContract(async () => {
    shared ??= await embeddedDatabase(undefined);
    const db = shared;
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await db.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
    const fixture = await migrated({ ...db, close: async () => undefined }, () => db.exec(`SET search_path TO public; DROP SCHEMA ${schema} CASCADE`));
    return fixture;
  });
});

describeWithServices(['postgres'], 'SQL audit log on PostgreSQL', () => {
  auditLogContract(async () => {
    const schema = await freshPostgresUrl();
    return migrated(postgresDatabase(schema.url, { max: 8 }), () => schema.drop());
  });

  it('keeps one unbroken chain under concurrent appends from several connections', async () => {
    const schema = await freshPostgresUrl();
    const fixture = await migrated(postgresDatabase(schema.url, { max: 8 }), () => schema.drop());
    try {
      await Promise.all(Array.from({ length: 80 }, (_, n) => fixture.log.append(record(n))));

      expect(await fixture.log.verify()).toEqual({ ok: true, entries: 80 });
    } finally {
      await fixture.close();
    }
  });
});
