import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { SqlDatabase, SqlExecutor } from './database';

export interface EmbeddedDatabaseOptions {
  /**
   * Scheduling niceness of the database's thread (Linux: per thread), 0 to 19. The aggregator's
   * database runs at a higher niceness than the stream's, so on a small machine its batches do
   * not delay ingest requests: in AWS the two never share a CPU.
   */
  readonly niceness?: number;
}

/** An embedded database that other threads of the process may use too. */
export interface EmbeddedDatabase extends SqlDatabase {
  /** A port for `embeddedDatabaseClient` in another thread (transfer it with postMessage). */
  connect(): MessagePort;
}

type WorkerReply = { id: number; rows?: unknown[]; error?: { message: string; code?: string } };

/** The thread's end of a connection: the worker itself or a port of a MessageChannel to it. */
type Endpoint = Pick<Worker, 'postMessage' | 'on'> | Pick<MessagePort, 'postMessage' | 'on'>;

/**
 * The embedded mode's PostgreSQL: PGlite (PostgreSQL in WASM), in a data folder or in memory when
 * `dataDir` is undefined, in a worker thread of its own, behind the SqlDatabase port. PGlite runs
 * SQL synchronously, so in the main thread a long aggregation transaction would stall every HTTP
 * request; in a worker it stalls nothing but its own queue. Kept apart from database.ts so the
 * Lambda bundles never carry it.
 */
export async function embeddedDatabase(dataDir: string | undefined, options: EmbeddedDatabaseOptions = {}): Promise<EmbeddedDatabase> {
  const worker = new Worker(join(__dirname, 'pglite-worker.js'), { workerData: { dataDir, niceness: options.niceness ?? 0 } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message: { ready: boolean; error?: { message: string } }) =>
      message.ready ? resolve() : reject(new Error(`PGlite did not start: ${message.error?.message ?? 'unknown'}`)),
    );
    worker.once('error', reject);
  });
  const client = clientOver(worker);
  return {
    ...client,
    connect() {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ op: 'connect', port: port2 }, [port2]);
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
  const client = clientOver(port);
  return {
    ...client,
    async close() {
      port.close();
    },
  };
}

function clientOver(endpoint: Endpoint): SqlDatabase {
  const pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let failure: Error | undefined;
  endpoint.on('message', (reply: WorkerReply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (!waiter) return;
    if (reply.error) waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    else waiter.resolve(reply);
  });
  endpoint.on('error', (error: Error) => {
    failure = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });

  const call = (message: Record<string, unknown>): Promise<WorkerReply> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      endpoint.postMessage({ id, ...message });
    });
  };
  const executor = (tx?: number): SqlExecutor => ({
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const reply = await call({ op: 'query', sql, params, tx });
      return { rows: (reply.rows ?? []) as Row[] };
    },
    async exec(script: string) {
      await call({ op: 'exec', sql: script, tx });
    },
  });

  return {
    ...executor(),
    async transaction(work) {
      const tx = nextId++;
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
}
