// `npm start`: bin/local.ts (through tsx) in a process of its own, with the memory settings of a
// runtime that shares a laptop (README, "Footprint"). Plain JavaScript: it runs before tsx does.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from './web-build.mjs';

/**
 * V8's young generation of the main thread at 3 x 8 MB instead of 3 x 16, and its old generation
 * capped at 384 MB (its live heap is under 100 MB during the demo), which also makes V8 collect
 * sooner: it lets the old generation grow to between 2 and 4 times what a collection left,
 * the less the lower the cap. The worker threads set their own limits.
 */
const NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=384'];

/**
 * glibc gives each thread that allocates its own 64 MB malloc arenas (up to 8 per core) and keeps
 * them: the runtime's five threads held about 300 MB of them during the demo. Two arenas are
 * enough for threads that mostly allocate in V8's heaps. Other C libraries ignore the variable;
 * one set by the caller wins.
 */
const ENV = { MALLOC_ARENA_MAX: '2' };

// The web app served at `/` is built here when its sources are newer than the build (a fresh
// clone, a pull): `npm ci && npm start` stays the whole set-up.
await buildWeb({ quiet: true });

const runtime = join(dirname(fileURLToPath(import.meta.url)), 'local.ts');
const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', runtime, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...ENV, ...process.env } });
// Ctrl-C reaches both processes; a signal sent to this one alone (kill, a supervisor) is passed on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
