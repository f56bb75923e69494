import { embeddedDatabase, type EmbeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { REWRITTEN_TABLES, makeVacuum } from '../../functions/adapters/pg/sql-vacuum';
import { SqlRollupStore } from '../../functions/adapters/pg/sql-rollup-store';
import { syntheticTraffic } from '../../functions/domain/demo/synthetic-traffic';
import { toStoredEvent } from '../../functions/domain/events/validate';
import { pseudonymisers } from '../../functions/handlers/ingest';

// One PGlite for the file: each costs seconds and hundreds of MB to start.
let db: EmbeddedDatabase;
beforeAll(async () => {
  db = await embeddedDatabase(undefined);
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
});
afterAll(() => db.close());

/** PGlite runs no autovacuum: what the purge deletes is reusable only after the runtime's VACUUM. */
describe('compaction of the embedded database after a purge', () => {
  const size = async () => (await db.query<{ bytes: number }>("SELECT pg_relation_size('rollup_event_ids')::float8 AS bytes")).rows[0]!.bytes;
  const fill = () => db.query('INSERT INTO rollup_event_ids (subject_hash, day, ids, version, processed_at) SELECT n, 20000, uuid_send(gen_random_uuid()), 1, now() FROM generate_series(1, 20000) AS n');
  const purgeAll = () => db.query('DELETE FROM rollup_event_ids');

  it('grows by what it purged when nothing compacts it', async () => {
    await fill();
    const filled = await size();
    await purgeAll();
    await fill();
    // Pruning frees a few pages on the way; nearly all the purged space stays held.
    expect(await size()).toBeGreaterThan(1.5 * filled);
    await purgeAll();
  });

  it('reuses the purged rows space once compacted, so a table stays the size of what it keeps', async () => {
    await makeVacuum(db)();
    await fill();
    const filled = await size();
    await purgeAll();
    await makeVacuum(db)();
    await fill();
    expect(await size()).toBeLessThanOrEqual(filled);
  });
});

/**
 * Events whose minute is already rolled up (a history import: the demo) rewrite their hour and day
 * rows and sketches, and every batch its users' feature rows, batch after batch; the runtime's
 * periodic VACUUM of REWRITTEN_TABLES is what lets the next batch reuse the superseded versions' space.
 */
describe('compaction of the rows late events rewrite', () => {
  const now = new Date('2026-11-26T00:00:00Z');
  const pseudonymise = pseudonymisers(Buffer.alloc(32, 7));
  const traffic = [...syntheticTraffic({ seed: 7, clock: { now: () => now }, users: 400, days: 1 })].map((event) => toStoredEvent(event, pseudonymise, now));
  const bytesOf = async (tables: readonly string[]) =>
    (await db.query<{ bytes: number }>(`SELECT sum(pg_total_relation_size(t))::float8 AS bytes FROM unnest($1::regclass[]) AS t`, [tables])).rows[0]!.bytes;

  /** The day's traffic, all of it late, in batches of 25; answers the size of `tables`. */
  async function importHistory(between: () => Promise<void>, tables: readonly string[]): Promise<number> {
    await db.exec('TRUNCATE rollups, rollup_sketches, rollup_event_ids, user_features');
    const store = new SqlRollupStore(db);
    await store.rollUp(now.getTime());
    for (let i = 0; i < traffic.length; i += 25) {
      await store.applyEvents(traffic.slice(i, i + 25));
      await between();
    }
    return bytesOf(tables);
  }

  /** What the superseded versions hold beyond the live rows, unvacuumed and vacuumed between batches. */
  async function supersededBytes(tables: readonly string[]): Promise<{ unvacuumed: number; vacuumed: number }> {
    const unvacuumed = await importHistory(async () => {}, tables);
    const vacuumed = await importHistory(makeVacuum(db, REWRITTEN_TABLES), tables);
    for (const table of tables) await db.exec(`VACUUM FULL ${table}`);
    const live = await bytesOf(tables);
    return { unvacuumed: unvacuumed - live, vacuumed: vacuumed - live };
  }

  it('holds the rewritten sketches at a fraction of their size when vacuumed between batches', async () => {
    expect(traffic.length).toBeGreaterThan(2_000);
    const { unvacuumed, vacuumed } = await supersededBytes(['rollup_sketches', 'rollups_hour', 'rollups_day']);
    // A third of it here; 94 % of the sketches' space after the demo's 1,000,000 events, with
    // longer days and larger sketches.
    expect(vacuumed).toBeLessThan(unvacuumed / 2);
  });

  it('holds the users feature rows near their live size when vacuumed between batches', async () => {
    const { unvacuumed, vacuumed } = await supersededBytes(['user_features']);
    // Here 504 KB superseded unvacuumed, 32 KB vacuumed.
    expect(vacuumed).toBeLessThan(unvacuumed / 4);
  });
});
