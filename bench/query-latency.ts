/**
 * GET /v1/metrics over 30 days at hour interval, through the local runtime (a child process, as
 * `npm start`), on both databases:
 * - PGlite (embedded): a data folder filled by `npm run demo` (2,000 users, 21 days, about 240,000
 *   events), kept for later runs in BENCH_DATA_DIR (default: the system's temporary folder);
 * - PostgreSQL: 1,000,000 events of the demo's synthetic traffic (29 days, 6,000 users), folded into
 *   a schema of their own that is kept for later runs (BENCH_RELOAD=1 rebuilds both) and rolled
 *   up, as the roll-up schedule keeps it; measured once every packed day is decided for the
 *   runtime's k (K_ANONYMITY, default 10).
 * Every grouping of a counter (`events`) and of a distribution (`choice.response_time`), the
 * three-dimension grouping of `interventions` and the distinct `active_users`; filters on a
 * dimension not grouped by; local days and weeks of a time zone (summed from stored hours).
 * Prints p50/p95 per round and the median p95 of the rounds per case, against the target (a
 * filter's target is that of the grouping it reads: groupBy and the filtered dimensions).
 * `npx tsx bench/query-latency.ts` (TARGETS=pglite,postgres, DATABASE_URL, EVENTS, ROUNDS, REQUESTS, WARMUP;
 * ONLY=text runs the cases whose name holds it, like ONLY=filter or ONLY=timeZone; BENCH_SCHEMA
 * names the PostgreSQL schema, bench_query_<EVENTS> by default: a branch with a migration can
 * measure a copy of the schema another commit measures).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresDatabase, type SqlDatabase } from '../functions/adapters/pg/database';
import { embeddedDatabase } from '../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../functions/adapters/pg/migrator';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { kAnonymity } from '../functions/config/env';
import { dropSchema, format, loadSyntheticTraffic, median, sampleLatency, schemaUrl, spawnRuntime, type RuntimeProcess } from './support';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REQUESTS = Number(process.env.REQUESTS ?? 50);
const WARMUP = Number(process.env.WARMUP ?? 10);
const TARGETS = (process.env.TARGETS ?? 'pglite,postgres').split(',');
const ONLY = process.env.ONLY ?? '';
const SCHEMA = process.env.BENCH_SCHEMA ?? `bench_query_${EVENTS}`;
const DATA_DIR = process.env.BENCH_DATA_DIR ?? join(tmpdir(), 'bench-query-latency-pglite');
const DEV_TOKEN = 'bench-query-latency-token';
const DAY_MS = 86_400_000;
// The runtime's k (K_ANONYMITY, as it reads it): the days the roll-up packs are decided for it.
const K = kAnonymity.parse(process.env.K_ANONYMITY);

interface Case {
  readonly metric: string;
  readonly groupBy: string;
  /** Query parameters beside the range and groupBy; hour interval when they name none. */
  readonly query?: string;
  /** The dimensions the answer reads cells at, where more than groupBy's. */
  readonly reads?: string;
}

const CASES: readonly Case[] = [
  ...['', 'type', 'platform', 'type,platform'].map((groupBy) => ({ metric: 'events', groupBy })),
  ...['', 'choiceType', 'scenarioId', 'choiceType,scenarioId'].map((groupBy) => ({ metric: 'choice.response_time', groupBy })),
  { metric: 'interventions', groupBy: 'interventionType,completion,urgency' },
  { metric: 'active_users', groupBy: 'platform' },
  { metric: 'events', groupBy: 'type', query: 'filter=platform:ios,platform:android', reads: 'type,platform' },
  { metric: 'choice.response_time', groupBy: 'choiceType', query: 'filter=scenarioId:exam-stress', reads: 'choiceType,scenarioId' },
  { metric: 'events', groupBy: 'type', query: 'interval=day&timeZone=Europe/London' },
  // Local weeks are withheld wherever an hour they sum is (PRIVACY.md rule 6): a grouping with data in them.
  { metric: 'events', groupBy: 'type', query: 'interval=week&timeZone=America/New_York' },
];

async function loadPostgres(url: string, now: Date): Promise<void> {
  const db = postgresDatabase(url);
  try {
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    await db.query('CREATE TABLE IF NOT EXISTS bench_loaded (events int NOT NULL, loaded_at timestamptz NOT NULL)');
    const loaded = await db.query<{ events: number; loaded_at: Date }>('SELECT events, loaded_at FROM bench_loaded');
    if (!loaded.rows[0]) {
      // With the runtime's k, as its roll-up runs: each day it packs is decided as it goes.
      await loadSyntheticTraffic(new SqlRollupStore(db, { k: K }), EVENTS, now);
      await db.query('INSERT INTO bench_loaded VALUES ($1, $2)', [EVENTS, now]);
    }
    // A schema another commit or k left is brought to what this runtime's roll-up would make of it.
    await rolledUp(db, now.getTime());
    await db.query('ANALYZE');
  } finally {
    await db.close();
  }
}

/**
 * As the roll-up schedule would have by now, with the runtime's k: every minute before `until`
 * folded into hours and days, and every packed day decided.
 */
async function rolledUp(db: SqlDatabase, until: number): Promise<void> {
  const store = new SqlRollupStore(db, { k: K });
  const started = performance.now();
  let steps = 1;
  while (!(await store.rollUp(until)).done) steps += 1;
  process.stdout.write(`rolled up in ${steps} steps, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

/** `npm run demo` into the runtime, then waits until the aggregator has folded every event. */
async function loadDemo(runtime: RuntimeProcess): Promise<void> {
  const code = await runtime.demo(['--seed', '42']);
  if (code !== 0) throw new Error(`the demo exited with ${code}`);
  for (;;) {
    const health = (await (await fetch(`${runtime.url}/health`)).json()) as { parts: { aggregateLag: { recordsBehind: number } } };
    if (health.parts.aggregateLag.recordsBehind === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  // The roll-up runs every minute: one more run folds the demo's last minutes.
  await new Promise((resolve) => setTimeout(resolve, 70_000));
}

async function runtimeFor(target: string): Promise<RuntimeProcess> {
  if (target === 'postgres') {
    const url = await schemaUrl(SCHEMA);
    await loadPostgres(url, new Date());
    return spawnRuntime({ DATABASE_URL: url, K_ANONYMITY: String(K) });
  }
  const loaded = join(DATA_DIR, 'bench-demo-loaded');
  mkdirSync(DATA_DIR, { recursive: true });
  if (!existsSync(loaded)) {
    const filling = await spawnRuntime({ DATA_DIR, DEV_TOKEN });
    await loadDemo(filling);
    await filling.stop();
    // As the runtime's roll-up would within minutes: every metric-day packed and decided (a
    // folder of an older commit's demo too), measured as the PostgreSQL schema is.
    const db = await embeddedDatabase(join(DATA_DIR, 'pg'));
    await rolledUp(db, Date.now()).finally(() => db.close());
    writeFileSync(loaded, new Date().toISOString());
  }
  return spawnRuntime({ DATA_DIR, DEV_TOKEN });
}

function targetMs(target: string, groupBy: string): number {
  if (target === 'pglite') return 100;
  return groupBy.split(',').length >= 2 ? 50 : 25;
}

async function bench(target: string): Promise<void> {
  const runtime = await runtimeFor(target);
  const to = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const range = `from=${new Date(to.getTime() - 30 * DAY_MS).toISOString()}&to=${to.toISOString()}`;
  // Timed to the last byte of the answer: parsing its JSON is the client's own work.
  let last = '';
  const get = async (path: string) => {
    const response = await fetch(`${runtime.url}${path}`, { headers: { authorization: `Bearer ${runtime.token}` } });
    last = await response.text();
    if (response.status !== 200) throw new Error(`unexpected answer ${response.status} to ${path}: ${last}`);
  };
  const check = (path: string) => {
    const body = JSON.parse(last) as { series?: { points: unknown[] }[] };
    if (!body.series?.length) throw new Error(`no series in the answer to ${path}`);
  };
  try {
    for (const { metric, groupBy, query, reads } of CASES) {
      const asked = query?.includes('interval=') ? query : ['interval=hour', ...(query ? [query] : [])].join('&');
      const path = `/v1/metrics/${metric}?${range}&${asked}${groupBy ? `&groupBy=${groupBy}` : ''}`;
      const name = `${target} ${metric}${groupBy ? ` by ${groupBy}` : ''}${query ? ` ${query}` : ''}`;
      if (!name.includes(ONLY)) continue;
      await sampleLatency(WARMUP, () => get(path));
      check(path);
      const p95s: number[] = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        const summary = await sampleLatency(REQUESTS, () => get(path));
        p95s.push(summary.p95);
        process.stdout.write(`${name} round ${round}: ${format(summary)}\n`);
      }
      process.stdout.write(`  ${name}: median p95 over ${ROUNDS} rounds ${median(p95s).toFixed(2)} ms (target <= ${targetMs(target, reads ?? groupBy)} ms)\n`);
    }
  } finally {
    await runtime.stop();
  }
}

async function main(): Promise<void> {
  if (process.env.BENCH_RELOAD === '1') {
    await dropSchema(SCHEMA);
    rmSync(DATA_DIR, { recursive: true, force: true });
  }
  for (const target of TARGETS) await bench(target);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
