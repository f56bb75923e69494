/**
 * How far the detect consumer falls behind while `npm run demo` loads the embedded runtime: its
 * live traffic, the burst of live safety signals at its end, then the planted population's
 * consent and history import and the model run, all of which write to the analytics database the
 * safety rules read and write. Samples `GET /health` every SAMPLE_MS and prints the largest age of
 * the oldest record each consumer had not processed (Kinesis's iterator age) and when it was
 * seen; the runtime's warnings (a dead-lettered batch among them) go with the output. The detect
 * mapping dead-letters records older than 5 minutes; /health calls the consumer down past 30 s.
 *
 * `npx tsx bench/detect-lag.ts` (USERS, default 2,000, the demo's; HISTORY_USERS, default 500;
 * SEED, default 5; SAMPLE_MS, default 2,000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnRuntime, type RuntimeProcess } from './support';

const USERS = Number(process.env.USERS ?? 2_000);
const HISTORY_USERS = Number(process.env.HISTORY_USERS ?? 500);
const SEED = Number(process.env.SEED ?? 5);
const SAMPLE_MS = Number(process.env.SAMPLE_MS ?? 2_000);
const DEV_TOKEN = 'bench-detect-lag-token';

interface Lag {
  readonly oldestAgeMs: number;
  readonly recordsBehind: number;
}

interface Worst {
  ageMs: number;
  at: string;
  samples: number;
}

async function lags(url: string): Promise<{ detect: Lag; aggregate: Lag } | undefined> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(SAMPLE_MS * 2) });
    const parts = ((await response.json()) as { parts: { detectLag: Lag; aggregateLag: Lag } }).parts;
    return { detect: parts.detectLag, aggregate: parts.aggregateLag };
  } catch {
    return undefined;
  }
}

function runDemo(runtime: RuntimeProcess): Promise<number> {
  const args = ['--users', String(USERS), '--seed', String(SEED)];
  if (HISTORY_USERS === 0) args.push('--no-history');
  else args.push('--history-users', String(HISTORY_USERS));
  return runtime.demo(args, () => undefined);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-detect-lag-'));
  const runtime = await spawnRuntime({ DATA_DIR: dataDir, DEV_TOKEN, LOG_LEVEL: 'warn' });
  const started = Date.now();
  const worst: Record<'detect' | 'aggregate', Worst> = { detect: { ageMs: 0, at: '-', samples: 0 }, aggregate: { ageMs: 0, at: '-', samples: 0 } };
  let unanswered = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const seen = await lags(runtime.url);
      if (seen === undefined) unanswered += 1;
      else {
        for (const consumer of ['detect', 'aggregate'] as const) {
          const mine = worst[consumer];
          mine.samples += 1;
          if (seen[consumer].oldestAgeMs > mine.ageMs) Object.assign(mine, { ageMs: seen[consumer].oldestAgeMs, at: `${((Date.now() - started) / 1000).toFixed(0)} s` });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  const code = await runDemo(runtime);
  // The consumers' backlog after the demo ends counts too.
  for (let waited = 0; waited < 600_000; waited += SAMPLE_MS) {
    const seen = await lags(runtime.url);
    if (seen && seen.detect.recordsBehind === 0 && seen.aggregate.recordsBehind === 0) break;
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  }
  sampling = false;
  await sampler;
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`demo: ${USERS} users, ${HISTORY_USERS} planted, seed ${SEED}; exit ${code}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const consumer of ['detect', 'aggregate'] as const) {
    const { ageMs, at, samples } = worst[consumer];
    console.log(`${consumer}: oldest unprocessed record at most ${(ageMs / 1000).toFixed(1)} s old (at ${at}; ${samples} samples)`);
  }
  console.log(`health unanswered within ${(SAMPLE_MS * 2) / 1000} s: ${unanswered} samples`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
