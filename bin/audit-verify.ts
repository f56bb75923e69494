// `npm run audit:verify`: re-hashes the audit trail from its anchor to its head and says whether
// any entry was changed, removed or reordered.
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { parseEnv } from '../functions/config/env';
import { localEnv } from '../functions/config/local';
import { postgresDatabase, type SqlDatabase } from '../functions/adapters/pg/database';
import { embeddedDatabase } from '../functions/adapters/pg/pglite-database';
import { SqlAuditLog } from '../functions/adapters/pg/sql-audit-log';
import { dataDirHolder } from '../functions/local/data-dir-lock';
import { cliOptions } from './cli-options';

const USAGE = `Usage: npm run audit:verify
Re-hashes the audit trail from its anchor to its head and says whether any entry was changed,
removed or reordered. Reads the PostgreSQL at DATABASE_URL, or else the embedded database in
\${DATA_DIR:-./.data}, which takes one process at a time: stop \`npm start\` first.
Exit status: 0 intact, 1 broken, 2 could not check.`;

async function open(): Promise<{ db: SqlDatabase; label: string }> {
  const config = parseEnv(localEnv);
  if (config.DATABASE_URL) return { db: postgresDatabase(config.DATABASE_URL, { max: 1 }), label: 'DATABASE_URL' };
  const dataDir = resolve(config.DATA_DIR);
  const holder = dataDirHolder(dataDir);
  if (holder !== undefined) {
    throw new Error(`the runtime (process ${holder}) holds ${dataDir}: stop \`npm start\` first (Ctrl-C), then run this again; or set DATABASE_URL to check a PostgreSQL audit trail while it runs`);
  }
  const path = join(dataDir, 'pg');
  if (!existsSync(path)) throw new Error(`no embedded database at ${path}: run \`npm start\` once, or set DATA_DIR or DATABASE_URL`);
  return { db: await embeddedDatabase(path), label: path };
}

async function main(): Promise<number> {
  const { db, label } = await open();
  try {
    const tables = await db.query<{ found: boolean }>("SELECT to_regclass('audit_head') IS NOT NULL AS found");
    if (!tables.rows[0]?.found) throw new Error(`${label} holds no audit trail (its migrations never ran)`);
    const verdict = await new SqlAuditLog(db).verify();
    if (verdict.ok) {
      process.stdout.write(`audit trail intact: ${verdict.entries} entries verified (${label})\n`);
      return 0;
    }
    process.stdout.write(`audit trail BROKEN at entry ${verdict.seq}: ${verdict.problem} (${verdict.entries} entries before it verified; ${label})\n`);
    return 1;
  } finally {
    await db.close();
  }
}

cliOptions(USAGE, {});
main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`audit:verify could not check: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
