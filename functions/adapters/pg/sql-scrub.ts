import type { StorageScrub } from '../../ports';
import type { SqlDatabase } from './database';

/** The product's tables an erasure deletes from (the analytics database). */
export const ERASED_ANALYTICS_TABLES = ['alerts', 'alert_notifications', 'alert_digest_items', 'silences', 'alert_conditions', 'clinician_users', 'interventions', 'subject_moods', 'rollup_event_ids', 'research_values'] as const;
/**
 * The stream database's: record keys and dead letters. Not the stream table, whose records are
 * sealed under the deleted key and keyed by its random id (rewriting a day of stream on every
 * erasure would hold ingest's puts back for nothing).
 */
export const ERASED_STREAM_TABLES = ['record_keys', 'dead_letters'] as const;

/**
 * Makes the rows an erasure deleted unreadable in the database's files. DELETE only marks a row
 * dead, and plain VACUUM only frees its space, leaving its bytes in the page until something
 * overwrites them: VACUUM FULL writes each table (and its indexes and TOAST) anew from its live
 * rows and drops the old files. The write-ahead log still holds the deleted rows; where the
 * data folder is ours (`retireWal`, the embedded database) the log moves to a new segment, and a
 * checkpoint with `wal_recycle` off removes the old ones instead of renaming them for reuse,
 * contents intact (measured: with recycling on, the old segment lived on, renamed, pseudonym and
 * all). A server's own files, log and backups are its operator's (PRIVACY.md).
 */
export class SqlScrub implements StorageScrub {
  constructor(
    readonly store: string,
    private readonly db: SqlDatabase,
    private readonly tables: readonly string[],
    private readonly options: { readonly retireWal: boolean },
  ) {}

  get what(): string {
    return `tables rewritten (VACUUM FULL ${this.tables.join(', ')})${this.options.retireWal ? '; write-ahead log switched, checkpointed, old segments removed' : ''}`;
  }

  async scrub(): Promise<void> {
    // Table names are this module's constants, never input. VACUUM cannot run in a transaction.
    for (const table of this.tables) await this.db.exec(`VACUUM FULL ${table}`);
    if (!this.options.retireWal) return;
    await this.db.exec('SET wal_recycle = off');
    await this.db.query('SELECT pg_switch_wal()');
    await this.db.exec('CHECKPOINT');
  }
}
