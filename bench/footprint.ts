/**
 * The footprint of stored events: bytes per event on disk and the runtime's resident memory.
 *
 * Fills a fresh store with about EVENTS events of the demo's traffic the way a user does: the
 * local runtime (`npm start`, a child process) fed by `npm run demo` (HTTP ingest, the stream,
 * the aggregator, the roll-up, and the purge two minutes after start-up), then waits until every
 * event is folded and rolled up. Sizes are taken after a restart and a few queries. Per target:
 * - pglite: a fresh data folder; prints each folder's size on disk (the analytics database `pg`,
 *   the stream's database `stream`, the LMDB `stream-log`, ...), then reopens `pg` and `stream`
 *   to print each table's heap, index and TOAST sizes;
 * - postgres: a fresh schema of DATABASE_URL; prints pg_total_relation_size per table (heap,
 *   indexes, TOAST) and the dead tuples the statistics count.
 * Resident memory of the runtime process (its database and aggregator threads included): the
 * peak (VmHWM) over start-up and the load and the largest of one-second samples (with the part
 * that is mapped files: the LMDB stream log), then, after a restart, the same while it serves
 * grouped GET /v1/metrics queries.
 *
 * `npx tsx bench/footprint.ts` (TARGETS=pglite,postgres, EVENTS: the events stored, default
 * 1,000,000, of which the demo's planted history of HISTORY_USERS users (default 500, the demo's,
 * about 269,000 events) and live traffic of as many users as the rest takes over DAYS days, default
 * 21; DATABASE_URL, QUERIES per grouping (default 20), KEEP=1 leaves the data folder and schema in
 * place and prints where they are).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresDatabase, type SqlDatabase } from '../functions/adapters/pg/database';
import { embeddedDatabase } from '../functions/adapters/pg/pglite-database';
import { dropSchema, schemaUrl, spawnRuntime, type RuntimeProcess } from './support';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const DAYS = Number(process.env.DAYS ?? 21);
const QUERIES = Number(process.env.QUERIES ?? 20);
const TARGETS = (process.env.TARGETS ?? 'pglite,postgres').split(',');
const KEEP = process.env.KEEP === '1';
const DEV_TOKEN = 'bench-footprint-token';
const HISTORY_USERS = Number(process.env.HISTORY_USERS ?? 500);
// The demo's traffic makes about 5.75 events per user and day (2,000 users, 21 days: 241,466), its
// planted history about 537 per user (500 users over 14 weeks: 268,718).
const EVENTS_PER_USER_DAY = 5.75;
const HISTORY_EVENTS_PER_USER = 537;
const DAY_MS = 86_400_000;
const MB = 1024 * 1024;

const GROUPINGS = ['events?groupBy=type', 'events?groupBy=type,platform', 'choice.response_time?groupBy=choiceType,scenarioId', 'interventions?groupBy=interventionType,completion,urgency', 'active_users?groupBy=platform'];

/** The runtime's own process: tsx runs bin/local.ts in a child of the launcher. */
function runtimePid(launcher: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === launcher) return Number(entry);
    } catch {
      // the process ended while listed
    }
  }
  throw new Error(`no child of ${launcher}: is this Linux?`);
}

interface Memory {
  readonly rss: number;
  /** VmHWM: the peak RSS since the process started. */
  readonly peak: number;
  /** Of `rss`, pages of mapped files (the LMDB stream log and consent files), which the kernel may drop and read again. */
  readonly file: number;
}

/** The process's resident memory, in MB. */
function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024, file: kb('RssFile') / 1024 };
}

/**
 * Samples the runtime's memory every second until `work` ends: VmHWM gives the peak, not what it
 * was made of. `first`, then each name given to `phase`, says what the samples are of; the largest sample of each is kept.
 */
async function sampled<T>(pid: () => number, first: string, work: (phase: (name: string) => void) => Promise<T>): Promise<{ value: T; peaks: Map<string, Memory> }> {
  const peaks = new Map<string, Memory>();
  let current = first;
  const timer = setInterval(() => {
    const now = memory(pid());
    if (now.rss > (peaks.get(current)?.rss ?? 0)) peaks.set(current, now);
  }, 1_000);
  try {
    return { value: await work((name) => (current = name)), peaks };
  } finally {
    clearInterval(timer);
  }
}

/** Bytes allocated on disk under `path` (an LMDB file is sparse: its apparent size is its map). */
function diskBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.blocks * 512;
  return readdirSync(path).reduce((total, entry) => total + diskBytes(join(path, entry)), 0);
}

async function health(runtime: RuntimeProcess): Promise<{ recordsBehind: number; restarts: number }> {
  const body = (await (await fetch(`${runtime.url}/health`)).json()) as { parts: { aggregateLag: { recordsBehind: number }; aggregator: { thread?: { restarts: number } } } };
  return { recordsBehind: body.parts.aggregateLag.recordsBehind, restarts: body.parts.aggregator.thread?.restarts ?? 0 };
}

// What the demo prints as it moves from its live traffic to the history import and the models.
const DEMO_PHASES: ReadonlyArray<readonly [string, string]> = [
  ['A planted population', 'the history import'],
  ['The nightly models', 'the models'],
];

/**
 * `npm run demo` sized to EVENTS, then waits until the aggregator has folded and rolled up every
 * event; `phase` is told each part of it as it starts.
 */
async function load(runtime: RuntimeProcess, phase: (name: string) => void): Promise<void> {
  const live = EVENTS - HISTORY_USERS * HISTORY_EVENTS_PER_USER;
  if (live <= 0) throw new Error(`EVENTS=${EVENTS} leaves no live traffic beside the history of ${HISTORY_USERS} users: set HISTORY_USERS lower`);
  const users = Math.max(1, Math.round(live / (EVENTS_PER_USER_DAY * DAYS)));
  phase('the live traffic');
  const code = await runtime.demo(['--seed', '42', '--users', String(users), '--days', String(DAYS), ...(HISTORY_USERS > 0 ? ['--history-users', String(HISTORY_USERS)] : ['--no-history'])], (chunk) => {
    process.stdout.write(chunk);
    for (const [marker, name] of DEMO_PHASES) if (chunk.toString().includes(marker)) phase(name);
  });
  if (code !== 0) throw new Error(`the demo exited with ${code}`);
  phase('the folding and roll-up after the demo');
  while ((await health(runtime)).recordsBehind > 0) await new Promise((resolve) => setTimeout(resolve, 2_000));
  // The roll-up runs every minute and leaves the last 15 s open: two more runs fold the demo's last minutes.
  await new Promise((resolve) => setTimeout(resolve, 125_000));
  // A thread that outgrew its heap limit is restarted, and its memory with it: the peak would not show it.
  process.stdout.write(`  aggregator thread restarts during the load: ${(await health(runtime)).restarts}\n`);
}

/** A few grouped 30-day hourly series, as a dashboard reads them. */
async function serveQueries(runtime: RuntimeProcess): Promise<void> {
  const to = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const range = `from=${new Date(to.getTime() - 30 * DAY_MS).toISOString()}&to=${to.toISOString()}&interval=hour`;
  for (let round = 0; round < QUERIES; round += 1) {
    for (const grouping of GROUPINGS) {
      const [metric, query] = grouping.split('?');
      const response = await fetch(`${runtime.url}/v1/metrics/${metric}?${query}&${range}`, { headers: { authorization: `Bearer ${runtime.token}` } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${response.status} to ${grouping}: ${text}`);
    }
  }
}

interface TableSize {
  readonly name: string;
  readonly heap: number;
  readonly indexes: number;
  readonly toast: number;
  readonly total: number;
  readonly rows: number;
  readonly dead: number;
}

/** Every table of the current schema (search_path), partitions apart, largest first. */
async function tableSizes(db: SqlDatabase): Promise<TableSize[]> {
  const { rows } = await db.query<TableSize>(`
    SELECT c.relname AS name,
           pg_relation_size(c.oid)::float8 AS heap,
           pg_indexes_size(c.oid)::float8 AS indexes,
           (pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid))::float8 AS toast,
           pg_total_relation_size(c.oid)::float8 AS total,
           greatest(c.reltuples, 0)::float8 AS rows,
           coalesce(s.n_dead_tup, 0)::float8 AS dead
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE c.relkind = 'r' AND n.nspname = current_schema()
    ORDER BY pg_total_relation_size(c.oid) DESC`);
  return rows;
}

async function storedEvents(db: SqlDatabase): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT coalesce(sum(octet_length(ids) / 16), 0)::int AS n FROM rollup_event_ids');
  return rows[0]!.n;
}

function printTables(label: string, tables: readonly TableSize[], events: number): number {
  const total = tables.reduce((sum, table) => sum + table.total, 0);
  process.stdout.write(`  ${label}: ${(total / MB).toFixed(1)} MB in tables, ${Math.round(total / events)} bytes/event\n`);
  for (const table of tables.filter((each) => each.total >= 1 * MB)) {
    process.stdout.write(
      `    ${table.name.padEnd(28)} ${(table.total / MB).toFixed(1).padStart(8)} MB (heap ${(table.heap / MB).toFixed(1)}, indexes ${(table.indexes / MB).toFixed(1)}, toast ${(table.toast / MB).toFixed(1)}) ` +
        `${Math.round(table.total / events)} B/event, ~${Math.round(table.rows)} rows, ${Math.round(table.dead)} dead\n`,
    );
  }
  return total;
}

const printMemory = (label: string, { rss, peak, file }: Memory) =>
  process.stdout.write(`  resident memory ${label}: peak ${peak.toFixed(0)} MB, now ${rss.toFixed(0)} MB (${file.toFixed(0)} MB of it mapped files)\n`);
const printSampledPeak = (label: string, { rss, file }: Memory) => process.stdout.write(`  resident memory ${label}, largest sample: ${rss.toFixed(0)} MB (${file.toFixed(0)} MB of it mapped files)\n`);
const printSampledPeaks = (peaks: ReadonlyMap<string, Memory>) => {
  for (const [name, peak] of peaks) printSampledPeak(`during ${name}`, peak);
};

async function benchPglite(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-footprint-'));
  try {
    let runtime = await spawnRuntime({ DATA_DIR: dataDir, DEV_TOKEN });
    const loading = runtimePid(runtime.pid);
    printSampledPeaks((await sampled(() => loading, 'start-up', (phase) => load(runtime, phase))).peaks);
    printMemory('during start-up and the load', memory(loading));
    await runtime.stop();

    runtime = await spawnRuntime({ DATA_DIR: dataDir, DEV_TOKEN });
    const pid = runtimePid(runtime.pid);
    printMemory('after a restart', memory(pid));
    printSampledPeaks((await sampled(() => pid, 'serving queries', () => serveQueries(runtime))).peaks);
    printMemory(`after a restart and ${QUERIES * GROUPINGS.length} grouped queries`, memory(pid));
    await runtime.stop();

    const analytics = await embeddedDatabase(join(dataDir, 'pg'));
    const streaming = await embeddedDatabase(join(dataDir, 'stream'));
    try {
      const events = await storedEvents(analytics);
      const folders = readdirSync(dataDir).map((name) => ({ name, bytes: diskBytes(join(dataDir, name)) }));
      const total = folders.reduce((sum, folder) => sum + folder.bytes, 0);
      process.stdout.write(`pglite: ${events} events stored, data folder ${(total / MB).toFixed(1)} MB on disk, ${Math.round(total / events)} bytes/event\n`);
      for (const folder of folders.sort((a, b) => b.bytes - a.bytes).filter((each) => each.bytes >= MB)) {
        const parts = ['pg', 'stream'].includes(folder.name)
          ? ` (${readdirSync(join(dataDir, folder.name))
              .map((name) => ({ name, bytes: diskBytes(join(dataDir, folder.name, name)) }))
              .filter((part) => part.bytes >= MB)
              .map((part) => `${part.name} ${(part.bytes / MB).toFixed(1)}`)
              .join(', ')})`
          : '';
        process.stdout.write(`  ${folder.name.padEnd(12)} ${(folder.bytes / MB).toFixed(1).padStart(8)} MB, ${Math.round(folder.bytes / events)} B/event${parts}\n`);
      }
      printTables('pg', await tableSizes(analytics), events);
      printTables('stream', await tableSizes(streaming), events);
    } finally {
      await analytics.close();
      await streaming.close();
    }
  } finally {
    if (KEEP) process.stdout.write(`  kept ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchPostgres(): Promise<void> {
  const schema = `bench_footprint_${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-footprint-pg-'));
  const url = await schemaUrl(schema);
  try {
    const runtime = await spawnRuntime({ DATABASE_URL: url, DATA_DIR: dataDir, DEV_TOKEN });
    const loading = runtimePid(runtime.pid);
    printSampledPeaks((await sampled(() => loading, 'start-up', (phase) => load(runtime, phase))).peaks);
    printMemory('during start-up and the load', memory(loading));
    await runtime.stop();
    const db = postgresDatabase(url);
    try {
      const events = await storedEvents(db);
      process.stdout.write(`postgres: ${events} events stored (schema ${schema})\n`);
      printTables('tables', await tableSizes(db), events);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (KEEP) process.stdout.write(`  kept schema ${schema}\n`);
    else await dropSchema(schema);
  }
}

async function main(): Promise<void> {
  for (const target of TARGETS) await (target === 'postgres' ? benchPostgres() : benchPglite());
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
