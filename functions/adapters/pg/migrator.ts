import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDatabase } from './database';

export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/**
 * The product's schema: applied in AWS by the migrate function and by the local runtime. The
 * Lambda bundle carries the SQL files in a `migrations` folder beside it.
 */
export const PRODUCT_MIGRATIONS_DIR = join(__dirname, 'migrations');
/** Tables only the local runtime needs (the embedded stream, checkpoints, dead letters). */
export const EMBEDDED_MIGRATIONS_DIR = join(__dirname, 'migrations-embedded');

export function loadMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => ({ name: file, sql: readFileSync(join(dir, file), 'utf8') }));
}

/**
 * Applies, in name order, the migrations of `set` not applied yet, each in its own transaction
 * with its bookkeeping row. An advisory lock keeps two concurrent migrators (two cold starts)
 * from applying the same file twice.
 */
export async function migrate(db: SqlDatabase, set: string, migrations: readonly Migration[]): Promise<string[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    migration_set text NOT NULL,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration_set, name))`);
  const applied: string[] = [];
  for (const migration of migrations) {
    const didApply = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`migrate:${set}`]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE migration_set = $1 AND name = $2', [set, migration.name]);
      if (done.rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (migration_set, name) VALUES ($1, $2)', [set, migration.name]);
      return true;
    });
    if (didApply) applied.push(migration.name);
  }
  return applied;
}
