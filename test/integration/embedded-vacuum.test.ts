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
  const size = async () => (await db.query<{ bytes: number }>("SELECT pg_relation_size('rollup_processed_events')::float8 AS bytes")).rows[0]!.bytes;
  const fill = () => db.query('INSERT INTO rollup_processed_events (event_id, subject_hash) SELECT gen_random_uuid(), n FROM generate_series(1, 20000) AS n');
  const purgeAll = () => db.query('DELETE FROM rollup_processed_events');

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
 * rows and sketches batch after batch; the runtime's periodic VACUUM of REWRITTEN_TABLES is what
 * lets the next batch reuse the superseded versions' space.
 */
describe('compaction of the rows late events rewrite', () => {
  const now = new Date('2026-11-26T00:00:00Z');
  const pseudonymise = pseudonymisers(Buffer.alloc(32, 7));
  const traffic = [...syntheticTraffic({ seed: 7, clock: { now: () => now }, users: 400, days: 1 })].map((event) => toStoredEvent(event, pseudonymise, now));
  const rewrittenBytes = async () =>
    (await db.query<{ bytes: number }>(`SELECT sum(pg_total_relation_size(t))::float8 AS bytes FROM unnest($1::regclass[]) AS t`, [REWRITTEN_TABLES])).rows[0]!.bytes;

  /** The day's traffic, all of it late, in batches of 25; answers the rewritten tables' size. */
  async function importHistory(between: () => Promise<void>): Promise<number> {
    await db.exec('TRUNCATE rollups, rollup_sketches, rollup_processed_events');
    const store = new SqlRollupStore(db);
    await store.rollUp(now.getTime());
    for (let i = 0; i < traffic.length; i += 25) {
      await store.applyEvents(traffic.slice(i, i + 25));
      await between();
    }
    return rewrittenBytes();
  }

  it('holds the rewritten sketches at a fraction of their size when vacuumed between batches', async () => {
    expect(traffic.length).toBeGreaterThan(2_000);
    const unvacuumed = await importHistory(async () => {});
    const vacuumed = await importHistory(makeVacuum(db, REWRITTEN_TABLES));
    for (const table of REWRITTEN_TABLES) await db.exec(`VACUUM FULL ${table}`);
    const live = await rewrittenBytes();
    // What the superseded versions hold beyond the live rows (a third of it here; 94 % of the
    // sketches' space after the demo's 1,000,000 events, with longer days and larger sketches).
    expect(vacuumed - live).toBeLessThan((unvacuumed - live) / 2);
  });
});
