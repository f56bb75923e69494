/**
 * What the audit trail adds to every read of analytics data: one append (lock the chain's head,
 * hash, insert, commit) against PostgreSQL, timed one after another, ROUNDS rounds of APPENDS.
 * Prints the latency percentiles per round and the median p50 and p95.
 * `npx tsx bench/audit-append.ts` (DATABASE_URL, ROUNDS, APPENDS).
 */
import { postgresDatabase } from '../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../functions/adapters/pg/migrator';
import { SqlAuditLog } from '../functions/adapters/pg/sql-audit-log';
import { dropSchema, format, median, sampleLatency, schemaUrl } from './support';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const APPENDS = Number(process.env.APPENDS ?? 300);
const SCHEMA = 'bench_audit_append';

async function main(): Promise<void> {
  await dropSchema(SCHEMA);
  const db = postgresDatabase(await schemaUrl(SCHEMA), { max: 2 });
  try {
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    const log = new SqlAuditLog(db);
    const append = (index: number) =>
      log
        .append({ at: new Date().toISOString(), actor: 'bench', role: 'analyst', action: 'read', resource: 'GET /v1/metrics/{metric}', purpose: 'unstated', details: { metric: 'events', index } })
        .then(() => undefined);
    const p50s: number[] = [];
    const p95s: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const summary = await sampleLatency(APPENDS, append);
      p50s.push(summary.p50);
      p95s.push(summary.p95);
      process.stdout.write(`round ${round}: ${APPENDS} appends: ${format(summary)}\n`);
    }
    process.stdout.write(`median over ${ROUNDS} rounds: p50 ${median(p50s).toFixed(2)} ms, p95 ${median(p95s).toFixed(2)} ms; the chain verifies: ${JSON.stringify(await log.verify())}\n`);
  } finally {
    await db.close();
    await dropSchema(SCHEMA);
  }
}

void main();
