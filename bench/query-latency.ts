/**
 * GET /v1/metrics for a 30-day range at hour interval over 1,000,000 stored events, through the
 * local runtime (a child process, as `npm start`) on PostgreSQL. The events come from the demo's
 * synthetic traffic (29 days, 6,000 users), folded into a schema of their own that is kept for
 * later runs (BENCH_RELOAD=1 rebuilds it) and rolled up, as the roll-up schedule keeps it. Prints
 * latency percentiles per round and the median p95.
 * `npx tsx bench/query-latency.ts` (DATABASE_URL, EVENTS, ROUNDS, REQUESTS).
 */
import { postgresDatabase } from '../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../functions/adapters/pg/migrator';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { syntheticTraffic } from '../functions/domain/demo/synthetic-traffic';
import { toStoredEvent } from '../functions/domain/events/validate';
import type { StoredEvent } from '../functions/domain/events/schema';
import { pseudonymisers } from '../functions/handlers/ingest';
import { dropSchema, format, median, sampleLatency, schemaUrl, spawnRuntime } from './support';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const REQUESTS = Number(process.env.REQUESTS ?? 100);
const SCHEMA = `bench_query_${EVENTS}`;
const DAY_MS = 86_400_000;

async function load(url: string, now: Date): Promise<number> {
  const db = postgresDatabase(url);
  try {
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    await db.query('CREATE TABLE IF NOT EXISTS bench_loaded (events int NOT NULL, loaded_at timestamptz NOT NULL)');
    const loaded = await db.query<{ events: number; loaded_at: Date }>('SELECT events, loaded_at FROM bench_loaded');
    if (loaded.rows[0]) return loaded.rows[0].loaded_at.getTime();
    const store = new SqlRollupStore(db);
    const pseudonymise = pseudonymisers(Buffer.alloc(32, 1));
    let batch: StoredEvent[] = [];
    let count = 0;
    const started = performance.now();
    for (const event of syntheticTraffic({ seed: 42, clock: { now: () => now }, users: 6_000, days: 29 })) {
      batch.push(toStoredEvent(event, pseudonymise, now));
      count += 1;
      if (batch.length === 500 || count === EVENTS) {
        await store.applyEvents(batch);
        batch = [];
        if (count % 100_000 === 0) process.stdout.write(`loaded ${count} events (${Math.round(count / ((performance.now() - started) / 1000))}/s)\n`);
      }
      if (count === EVENTS) break;
    }
    if (batch.length > 0) await store.applyEvents(batch);
    if (count < EVENTS) throw new Error(`the synthetic traffic gave only ${count} events`);
    // As the schedule would have by now: every minute before the load's end folded into hours and days.
    const rollUpStarted = performance.now();
    let steps = 1;
    while (!(await store.rollUp(now.getTime())).done) steps += 1;
    process.stdout.write(`rolled up in ${steps} steps, ${((performance.now() - rollUpStarted) / 1000).toFixed(1)} s\n`);
    await db.query('INSERT INTO bench_loaded VALUES ($1, $2)', [count, now]);
    await db.query('ANALYZE');
    return now.getTime();
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  if (process.env.BENCH_RELOAD === '1') await dropSchema(SCHEMA);
  const url = await schemaUrl(SCHEMA);
  const loadedAt = await load(url, new Date());
  const runtime = await spawnRuntime({ DATABASE_URL: url });
  const to = new Date(Math.ceil(loadedAt / 3_600_000) * 3_600_000);
  const range = `from=${new Date(to.getTime() - 30 * DAY_MS).toISOString()}&to=${to.toISOString()}&interval=hour`;
  const queries = [`/v1/metrics/events?${range}`, `/v1/metrics/events?${range}&groupBy=type`, `/v1/metrics/session.duration?${range}&groupBy=platform`];
  // Timed to the last byte of the answer: parsing its JSON (1.3 ms for the 293 KB answer by type)
  // is the client's own work, done after the clock stops for the last answer of each round.
  let last = '';
  const get = async (path: string) => {
    const response = await fetch(`${runtime.url}${path}`, { headers: { authorization: `Bearer ${runtime.token}` } });
    last = await response.text();
    if (response.status !== 200) throw new Error(`unexpected answer ${response.status} to ${path}`);
  };
  const check = (path: string) => {
    const body = JSON.parse(last) as { series?: { points: unknown[] }[] };
    if (!body.series?.length) throw new Error(`no series in the answer to ${path}`);
  };
  try {
    for (const path of queries) {
      await sampleLatency(20, () => get(path));
      check(path);
      const p95s: number[] = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        const summary = await sampleLatency(REQUESTS, () => get(path));
        check(path);
        p95s.push(summary.p95);
        process.stdout.write(`${path.replace(/\?.*?interval/, '?<30 days>&interval')} round ${round}: ${format(summary)}\n`);
      }
      process.stdout.write(`  median p95 over ${ROUNDS} rounds: ${median(p95s).toFixed(2)} ms (target < 25 ms)\n`);
    }
  } finally {
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
