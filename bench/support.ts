/** What the benchmarks share: percentiles, a latency sampler and a PostgreSQL schema of their own. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { syntheticTraffic } from '../functions/domain/demo/synthetic-traffic';
import type { StoredEvent } from '../functions/domain/events/schema';
import { toStoredEvent } from '../functions/domain/events/validate';
import { pseudonymisers } from '../functions/handlers/ingest';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 0.5);

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Runs `request` `count` times one after another and answers the latency percentiles in ms. With
 * `ratePerSecond`, request i starts no earlier than i / rate seconds after the first; the pause
 * before a request is not part of its latency.
 */
export async function sampleLatency(count: number, request: (index: number) => Promise<void>, ratePerSecond = 0): Promise<LatencySummary> {
  const timings: number[] = [];
  const first = performance.now();
  for (let index = 0; index < count; index += 1) {
    const wait = ratePerSecond > 0 ? first + (index * 1000) / ratePerSecond - performance.now() : 0;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = performance.now();
    await request(index);
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  return { p50: percentile(timings, 0.5), p95: percentile(timings, 0.95), p99: percentile(timings, 0.99), max: timings[timings.length - 1]! };
}

export const format = (summary: LatencySummary) =>
  `p50 ${summary.p50.toFixed(2)} ms, p95 ${summary.p95.toFixed(2)} ms, p99 ${summary.p99.toFixed(2)} ms, max ${summary.max.toFixed(2)} ms`;

/** A URL whose connections work in `schema`, created when missing. */
export async function schemaUrl(schema: string): Promise<string> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await client.end();
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/**
 * `npm start` as a child process (bin/start.mjs, which runs `bin/local.ts` with its memory
 * settings), its stderr sent to `stderr` and its stdout (the banner and the JSON log) to `stdout`
 * or nowhere. The runtime is the launcher's child: `detached` gives both a process group of their
 * own, so one signal to the group reaches the runtime itself (a SIGKILL is not relayed).
 */
export function launchRuntime(env: Record<string, string>, options: { readonly stderr: 'inherit' | number; readonly stdout?: 'inherit' | number; readonly detached?: boolean }): ChildProcess {
  return spawn(process.execPath, [join(__dirname, '..', 'bin', 'start.mjs')], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', options.stdout ?? 'ignore', options.stderr],
    detached: options.detached ?? false,
  });
}

export interface RuntimeProcess {
  readonly url: string;
  /** The tsx launcher's process id; the runtime itself is its child. */
  readonly pid: number;
  readonly token: string;
  /**
   * `npm run demo` against this runtime with `args`, resolving with its exit code; its output goes
   * to `output` where given, else to this process's. Its planted history's files go to the
   * runtime's data folder, as beside `npm start`: without DATA_DIR the demo writes them to the
   * working directory (the checkout, for a benchmark).
   */
  demo(args: readonly string[], output?: (chunk: Buffer) => void): Promise<number>;
  stop(): Promise<void>;
}

/**
 * `npm start` in a child process, as a user runs it, so the benchmark's own client does not share
 * the runtime's event loop. Resolves once /health answers 200.
 */
export async function spawnRuntime(env: Record<string, string>): Promise<RuntimeProcess> {
  const dataDir = env['DATA_DIR'] ?? mkdtempSync(join(tmpdir(), 'bench-runtime-'));
  const port = env['PORT'] ?? String(20_000 + Math.floor(Math.random() * 20_000));
  // Its log (warnings and errors: LOG_LEVEL warn) goes with the bench's output, an aggregator thread's restart among them.
  const child = launchRuntime({ ...env, DATA_DIR: dataDir, PORT: port }, { stderr: 'inherit', stdout: 'inherit' });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the runtime exited with ${child.exitCode}`);
    const healthy = await fetch(`${url}/health`).then((response) => response.status === 200, () => false);
    if (healthy) break;
    if (attempt > 600) throw new Error('the runtime did not become healthy within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const token = env['DEV_TOKEN'] ?? readFileSync(join(dataDir, 'dev-token'), 'utf8').trim();
  return {
    url,
    pid: child.pid!,
    token,
    demo(args, output) {
      const demo = spawn(process.execPath, [join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(__dirname, '..', 'bin', 'demo.ts'), '--url', url, '--token', token, ...args], {
        stdio: ['ignore', output ? 'pipe' : 'inherit', 'inherit'],
        env: { ...process.env, DATA_DIR: dataDir },
      });
      if (output) demo.stdout!.on('data', output);
      return new Promise((resolve) => demo.once('exit', (code) => resolve(code ?? 1)));
    },
    async stop() {
      child.kill('SIGINT');
      await exited;
      if (env['DATA_DIR'] === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  } catch {
    return NaN;
  }
})();

/** User + system CPU of a local process so far, µs; NaN when it cannot be read (PostgreSQL elsewhere). */
export function processCpuMicros(pid: number): number {
  try {
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
  } catch {
    return NaN;
  }
}

/**
 * The first `events` events of the demo's synthetic traffic (6,000 users, 29 days to `now`),
 * stored as ingest would and folded into the rollups and features in batches of 500, with progress.
 */
export async function loadSyntheticTraffic(store: SqlRollupStore, events: number, now: Date): Promise<void> {
  const pseudonymise = pseudonymisers(Buffer.alloc(32, 1));
  let batch: StoredEvent[] = [];
  let count = 0;
  const started = performance.now();
  for (const event of syntheticTraffic({ seed: 42, clock: { now: () => now }, users: 6_000, days: 29 })) {
    batch.push(toStoredEvent(event, pseudonymise, now));
    count += 1;
    if (batch.length === 500 || count === events) {
      await store.applyEvents(batch);
      batch = [];
      if (count % 100_000 === 0) process.stdout.write(`loaded ${count} events (${Math.round(count / ((performance.now() - started) / 1000))}/s)\n`);
    }
    if (count === events) break;
  }
  if (batch.length > 0) await store.applyEvents(batch);
  if (count < events) throw new Error(`the synthetic traffic gave only ${count} events`);
}
