import { randomBytes } from 'node:crypto';
import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase, type EmbeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlAlertRuleStore } from '../../functions/adapters/pg/sql-alert-rules';
import { SqlConditionStore } from '../../functions/adapters/pg/sql-condition-store';
import type { Clock } from '../../functions/ports';

export interface AlertStores {
  readonly db: SqlDatabase;
  readonly rules: SqlAlertRuleStore;
  readonly conditions: SqlConditionStore;
  close(): Promise<void>;
}

export async function migratedStores(db: SqlDatabase, cleanUp: () => Promise<void>): Promise<AlertStores> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  return {
    db,
    rules: new SqlAlertRuleStore(db),
    conditions: new SqlConditionStore(db),
    async close() {
      await db.close();
      await cleanUp();
    },
  };
}

/** One PGlite for a test file (its start costs seconds) and a fresh schema for each `open()`. */
export function pgliteStores(): { open(): Promise<AlertStores>; closeAll(): Promise<void> } {
  let shared: EmbeddedDatabase | undefined;
  return {
    async open() {
      shared ??= await embeddedDatabase(undefined);
      const db = shared;
      const schema = `t_${randomBytes(6).toString('hex')}`;
      await db.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
      return migratedStores({ ...db, close: async () => undefined }, () => db.exec(`SET search_path TO public; DROP SCHEMA ${schema} CASCADE`));
    },
    async closeAll() {
      await shared?.close();
    },
  };
}

/** A clock the test moves by hand. */
export function steppedClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}
