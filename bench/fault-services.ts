/**
 * The fault script's private services: a Redis and a moto of its own on free loopback ports, a
 * PostgreSQL schema of its own, and the runtime as a child process. Each can be broken (a
 * restart, a SIGKILL, terminated connections) without touching the services others share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { openSync } from 'node:fs';
import { Client } from 'pg';
import { DATABASE_URL, launchRuntime, schemaUrl } from './support';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on now (the kernel's pick); the service binds it a moment later. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Polls `probe` every 100 ms until it answers true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

const tcpOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export const healthy = (url: string) => fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then((response) => response.status === 200, () => false);

/** A process group we started: killed as a whole, so nothing of it outlives a restart. */
/** Until no process of the child's group is left (the runtime under tsx ends after it), for at most 10 s. */
async function groupGone(child: ChildProcess): Promise<void> {
  for (let waited = 0; child.pid !== undefined && waited < 10_000; waited += 50) {
    try {
      process.kill(-child.pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // The whole group, even when tsx's parent process is gone: the runtime under it may live on,
  // holding the data folder a new runtime would need.
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

const exitOf = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** A server process on a fixed port that can be killed and started again empty. */
export interface RestartableService {
  readonly url: string;
  /** SIGKILL, then the same command again on the same port; resolves once it answers. */
  restart(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function restartable(url: string, command: string, args: readonly string[], ready: () => Promise<boolean>, logFile: string): RestartableService {
  let child: ChildProcess | undefined;
  const log = openSync(logFile, 'a');
  const service: RestartableService = {
    url,
    async start() {
      child = spawn(command, args, { stdio: ['ignore', log, log], detached: true });
      await waitFor(command, ready, 30_000);
    },
    async kill() {
      if (!child) return;
      killGroup(child, 'SIGKILL');
      await exitOf(child);
      child = undefined;
    },
    async restart() {
      await service.kill();
      await service.start();
    },
    stop: () => service.kill(),
  };
  return service;
}

/** `redis-server` without persistence: a restart loses every key, as a crashed cache node does. */
export async function privateRedis(logFile: string): Promise<RestartableService> {
  const port = await freePort();
  const redis = restartable(`redis://127.0.0.1:${port}`, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], () => tcpOpen(port), logFile);
  await redis.start();
  return redis;
}

/** `moto_server`: a restart starts it empty, with no stream, queue, table or topic. */
export async function privateMoto(logFile: string): Promise<RestartableService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const moto = restartable(url, 'moto_server', ['-H', '127.0.0.1', '-p', String(port)], async () => (await fetch(`${url}/moto-api/`)).ok, logFile);
  await moto.start();
  return moto;
}

/** A fresh schema whose connections carry `application_name`, so only the runtime's can be terminated. */
export async function privateSchema(schema: string, applicationName: string): Promise<{ url: string; terminate(): Promise<number> }> {
  const url = new URL(await schemaUrl(schema));
  url.searchParams.set('application_name', applicationName);
  return {
    url: url.toString(),
    async terminate() {
      const admin = new Client({ connectionString: DATABASE_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [applicationName]);
        for (const { pid } of rows) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        return rows.length;
      } finally {
        await admin.end();
      }
    },
  };
}

/** The runtime as a child process group, on one port and one data folder across restarts. */
export class RuntimeChild {
  private child: ChildProcess | undefined;
  /** Exits nobody asked for: the process died by itself (an unhandled error, say). */
  readonly unexpectedExits: { readonly at: number; readonly code: number | null; readonly signal: string | null }[] = [];
  private readonly log: number;

  constructor(
    readonly url: string,
    private readonly env: Record<string, string>,
    logFile: string,
  ) {
    this.log = openSync(logFile, 'a');
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it and waits (up to `timeoutMs`) until /health answers 200; answers how long that took. */
  async start(timeoutMs = 90_000): Promise<number> {
    const started = Date.now();
    const child = launchRuntime(this.env, { stderr: this.log, stdout: this.log, detached: true });
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.unexpectedExits.push({ at: Date.now(), code, signal });
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await healthy(this.url))) {
      if (!this.running) throw new Error('the runtime exited while starting; see its log');
      if (Date.now() > deadline) throw new Error(`the runtime did not answer /health 200 within ${timeoutMs / 1000} s`);
      await sleep(100);
    }
    return Date.now() - started;
  }

  /** kill -9 of the runtime (and tsx's parent): no stop hook runs, batches in flight are cut. */
  async kill9(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    killGroup(child, 'SIGKILL');
    await exitOf(child);
    await groupGone(child);
  }

  /** A clean stop (SIGINT), waited for up to 20 s, then SIGKILL. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    killGroup(child, 'SIGINT');
    await Promise.race([exitOf(child), sleep(20_000)]);
    killGroup(child, 'SIGKILL');
    await exitOf(child);
  }
}

/** Samples /health every 100 ms from now until `stop`: whether it ever answered otherwise than 200, and when it last became 200. */
export function sampleHealth(url: string): { stop(): Promise<{ sawUnhealthy: boolean; healthyAt?: number }> } {
  const samples: { at: number; ok: boolean }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      samples.push({ at, ok: await healthy(url) });
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      let lastBad = samples.length - 1;
      while (lastBad >= 0 && samples[lastBad]!.ok) lastBad -= 1;
      const recovered = samples[lastBad + 1];
      return { sawUnhealthy: lastBad >= 0, ...(recovered && { healthyAt: recovered.at }) };
    },
  };
}

/** Polls `done` every 250 ms until it answers true (its errors count as false); the time it did, or undefined past `deadline`. */
export async function until(deadline: number, done: () => Promise<boolean>): Promise<number | undefined> {
  for (;;) {
    if (await done().catch(() => false)) return Date.now();
    if (Date.now() > deadline) return undefined;
    await sleep(250);
  }
}

/** `read`'s answer, tried again (errors included) for up to `withinMs`; undefined if it never answered. */
export async function retrying<T>(read: () => Promise<T>, withinMs: number): Promise<T | undefined> {
  let value: T | undefined;
  await until(Date.now() + withinMs, async () => {
    value = await read();
    return true;
  });
  return value;
}
