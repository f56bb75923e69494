import type { SqlDatabase } from './database';

/**
 * The tables the purge deletes from and those whose rows every batch rewrites: the space their
 * dead rows hold is reusable only once VACUUM has passed.
 */
export const VACUUMED_TABLES = [
  'rollups_minute',
  'rollups_hour',
  'rollups_day',
  'rollup_sketches',
  'rollup_processed_events',
  'rollup_writer',
  'research_values',
  'erased_subjects',
  'audit_log',
] as const;

/** The sketches each roll-up step rewrites (hour and day rows keep theirs there, migration 002). */
export const ROLLED_UP_TABLES = ['rollup_sketches'] as const;

/**
 * VACUUM of the given tables, one statement each, so a query waits behind one table at most.
 * PGlite runs no autovacuum, so without it the embedded database keeps the space of every purged
 * and superseded row, and grows as time passes whatever the retention; a PostgreSQL's autovacuum
 * may be off, or come after a load has rewritten the same rows many times.
 */
export function makeVacuum(db: Pick<SqlDatabase, 'exec'>, tables: readonly string[] = VACUUMED_TABLES): () => Promise<void> {
  return async function vacuum() {
    for (const table of tables) await db.exec(`VACUUM ${table}`);
  };
}
