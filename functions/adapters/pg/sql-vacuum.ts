import type { SqlDatabase } from './database';

/**
 * The tables the purge deletes from and those whose rows every batch rewrites: the space their
 * dead rows hold is reusable only once VACUUM has passed.
 */
export const VACUUMED_TABLES = [
  'rollups_minute',
  'rollup_minute_users',
  'rollups_hour',
  'rollups_day',
  'rollup_sketches',
  'rollup_hour_blocks',
  'rollup_event_ids',
  'rollup_writer',
  'research_values',
  'user_features',
  'operational_minutes',
  'alerts',
  'alert_notifications',
  'alert_conditions',
  'erased_subjects',
  'audit_log',
] as const;

/**
 * The rows rewritten while their bucket is open: the hour and day rows and their sketches, by each
 * roll-up step and by every batch of events whose minute is already rolled up. A history import
 * (the demo: three weeks sent in a quarter of an hour) is all such events, and each batch rewrote
 * its day's users sketches: 861 MB of dead TOAST beside 53 MB live after 1,000,000 events. And
 * each user's feature row, rewritten by every batch holding one of the user's events: never
 * vacuumed, it held 54.9 MB for the 8,782 users of the demo's 1,297,109 events (bench/footprint.ts);
 * and each user's list of the day's event ids, which such a batch adds to; and the parts of the
 * current minute's users, which a write adds and deletes as it folds them in (migration 033).
 */
export const REWRITTEN_TABLES = ['rollup_sketches', 'rollups_hour', 'rollups_day', 'user_features', 'rollup_event_ids', 'rollup_minute_users'] as const;

/** Often enough that the superseded sketches are reused before they pile up; a VACUUM of pages left as they were costs little. */
export const VACUUM_EVERY_MS = 15_000;

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
