import { embeddedDatabase, type EmbeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { makeVacuum } from '../../functions/adapters/pg/sql-vacuum';

/** PGlite runs no autovacuum: what the purge deletes is reusable only after the runtime's VACUUM. */
describe('compaction of the embedded database after a purge', () => {
  let db: EmbeddedDatabase;
  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  });
  afterAll(() => db.close());

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
