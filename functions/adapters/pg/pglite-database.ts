import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { threadCaller, workerReady, type ThreadEndpoint } from '../thread-calls';
import type { SqlDatabase, SqlExecutor } from './database';
import { StoreUnavailableError } from '../../ports/unavailable';

export interface EmbeddedDatabaseOptions {
  /**
   * Scheduling niceness of the database's thread (Linux: per thread), 0 to 19. The aggregator's
   * database runs at a higher niceness than the stream's, so on a small machine its batches do
   * not delay ingest requests: in AWS the two never share a CPU.
   */
  readonly niceness?: number;
  /**
   * PostgreSQL's buffer pool, in MB (default 16). PGlite's WASM memory holds all of it once
   * touched and never gives memory back, so it is resident for the life of the process; pages
   * beyond it are read from the operating system's file cache.
   */
  readonly sharedBuffersMb?: number;
  /** How often a database in a folder writes a checkpoint, which recycles its WAL (default a minute). */
  readonly checkpointEveryMs?: number;
}

const CHECKPOINT_EVERY_MS = 60_000;

/**
 * Server settings of every embedded database. PostgreSQL's defaults suit a server of its own:
 * 128 MB of buffers per instance, and a write-ahead log of up to 1 GB between checkpoints, kept at
 * 80 MB at least, which the data folder carried (128 MB of `pg_wal` after 30,000 events;
 * bench/footprint.ts). These bound what a checkpoint keeps for recycling; the checkpoints
 * themselves come from the worker's timer (pglite-worker.js). Two segments, the least PostgreSQL
 * takes: at a 64 MB bound the analytics folder kept 64 MB of `pg_wal` after the demo at 1,000,000
 * events, 5 % of the folder, segments kept only to be recycled.
 */
const walSettings = { max_wal_size: '32MB', min_wal_size: '32MB' };

const DEFAULT_SHARED_BUFFERS_MB = 16;

/**
 * The thread's young generation (V8 lets it reach 48 MB): what the thread allocates is each
 * message's rows and parameters, garbage once answered, and a smaller young generation is
 * scavenged more often instead of holding up to three times as much resident.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/**
 * A new data folder, made by initdb in a process of its own. initdb runs a WASM instance of its
 * own (~450 MB while it runs). In a worker thread of this process its WASM memory and heap went
 * with the thread, but not what its thread and the compiler threads had taken from malloc: about
 * 200 MB of arenas that glibc keeps for the threads after it, resident for the life of the
 * runtime (bench/footprint.ts). A process gives everything back when it exits.
 */
export async function createDataDir(dataDir: string, settings: Readonly<Record<string, string>>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [join(__dirname, 'pglite-worker.js'), JSON.stringify({ dataDir, settings })], { maxBuffer: 4 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`PGlite could not create ${dataDir}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** An embedded database that other threads of the process may use too. */
export interface EmbeddedDatabase extends SqlDatabase {
  /**
   * A port for `embeddedDatabaseClient` in another thread (transfer it with postMessage). An
   * `urgent` connection's statements and transactions go before every other connection's that
   * wait for the database: the safety rules' reads and writes, never held behind bulk work.
   */
  connect(options?: { readonly urgent?: boolean }): MessagePort;
}

/**
 * The embedded mode's PostgreSQL: PGlite (PostgreSQL in WASM), in a data folder or in memory when
 * `dataDir` is undefined, in a worker thread of its own, behind the SqlDatabase port. PGlite runs
 * SQL synchronously, so in the main thread a long aggregation transaction would stall every HTTP
 * request; in a worker it stalls nothing but its own queue. Kept apart from database.ts so the
 * Lambda bundles never carry it.
 */
export async function embeddedDatabase(dataDir: string | undefined, options: EmbeddedDatabaseOptions = {}): Promise<EmbeddedDatabase> {
  const settings = { ...walSettings, shared_buffers: `${options.sharedBuffersMb ?? DEFAULT_SHARED_BUFFERS_MB}MB` };
  if (dataDir !== undefined && !existsSync(join(dataDir, 'PG_VERSION'))) await createDataDir(dataDir, settings);
  // In memory there is no WAL on disk to recycle.
  const checkpointEveryMs = dataDir === undefined ? 0 : (options.checkpointEveryMs ?? CHECKPOINT_EVERY_MS);
  const worker = new Worker(join(__dirname, 'pglite-worker.js'), {
    workerData: { dataDir, settings, checkpointEveryMs, niceness: options.niceness ?? 0 },
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  await workerReady(worker, 'PGlite');
  const { client, fail } = clientOver(worker);
  // PGlite is not restarted (it owns the data folder, which a crash may have left mid-write): its
  // callers see it unavailable, so stream consumers wait instead of dead-lettering their batches.
  worker.on('error', (error) => fail(new StoreUnavailableError('PGlite', error)));
  worker.on('exit', (code) => fail(new StoreUnavailableError('PGlite', new Error(`its thread exited with ${code}`))));
  return {
    ...client,
    connect({ urgent = false } = {}) {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ op: 'connect', port: port2, urgent }, [port2]);
      return port1;
    },
    async close() {
      await client.close();
      await worker.terminate();
    },
  };
}

/** The database behind a port from `EmbeddedDatabase.connect`; closing it closes the port, not the database. */
export function embeddedDatabaseClient(port: MessagePort): SqlDatabase {
  const { client, fail } = clientOver(port);
  port.on('close', () => fail(new StoreUnavailableError('PGlite', new Error('its connection closed'))));
  return {
    ...client,
    async close() {
      port.close();
    },
  };
}

function clientOver(endpoint: ThreadEndpoint): { client: SqlDatabase; fail: (error: Error) => void } {
  const { call, fail } = threadCaller(endpoint);
  // Per connection: the database's thread keeps each connection's transactions apart.
  let nextTransaction = 1;
  const rowsOf = async <Row>(sql: string, params: readonly unknown[] | undefined, tx: number | undefined, rowMode?: 'array') => {
    const reply = await call({ op: 'query', sql, params, tx, rowMode });
    return { rows: (reply['rows'] ?? []) as Row[] };
  };
  const executor = (tx?: number): SqlExecutor => ({
    query: (sql, params) => rowsOf(sql, params, tx),
    queryArrays: (sql, params) => rowsOf(sql, params, tx, 'array'),
    async exec(script: string) {
      await call({ op: 'exec', sql: script, tx });
    },
  });

  const client: SqlDatabase = {
    ...executor(),
    async transaction(work) {
      const tx = nextTransaction++;
      await call({ op: 'begin', tx });
      try {
        const value = await work(executor(tx));
        await call({ op: 'commit', tx });
        return value;
      } catch (error) {
        await call({ op: 'rollback', tx }).catch(() => undefined);
        throw error;
      }
    },
    async close() {
      await call({ op: 'close' }).catch(() => undefined);
    },
  };
  return { client, fail };
}
