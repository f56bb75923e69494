import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { MAX_DAYS, MAX_USERS, syntheticTraffic } from '../functions/domain/demo/synthetic-traffic';
import { MAX_EVENTS_PER_REQUEST, type IncomingEvent } from '../functions/domain/events/schema';
import { LIVE_HORIZON_MS } from '../functions/domain/alerting/signals';
import { demoConsentOf, putConsent } from '../functions/local/consent-client';
import { IngestFailed, postEvents, type BatchResult } from '../functions/local/ingest-client';
import { Stop, integerOption, checkReachable, cliOptions, requireToken, runCli } from './cli-options';

/*
 * `npm run demo`: streams synthetic traffic into a running instance over its public API, the way
 * a fleet of app clients would: batches of events, several in flight, retried on 5xx and network
 * errors with backoff. Then the behaviour analysis's part: a planted population's fourteen weeks
 * (more than ingest's 30-day window) through the history import, and the nightly models run on
 * it now, with what was planted written beside the history to score them against.
 */

const HISTORY_USERS = 500;
const HISTORY_WEEKS = 14;

const USAGE = `Usage: npm run demo -- [options]
  --url URL          the running instance (default $DEMO_URL or http://127.0.0.1:3000)
  --token TOKEN      bearer token (default $DEV_TOKEN, else \${DATA_DIR:-./.data}/dev-token)
  --users N          pseudonymous users (default $DEMO_USERS or 2000)
  --days N           days of history, at most ${MAX_DAYS} (default $DEMO_DAYS or 21)
  --seed N           PRNG seed; the same seed replays the same events (default: random, printed)
  --batch N          events per request, at most ${MAX_EVENTS_PER_REQUEST} (default 500)
  --concurrency N    requests in flight (default 4)
  --history-users N  users of the planted population imported after the traffic, 14 weeks each
                     (default $DEMO_HISTORY_USERS or ${HISTORY_USERS}); its history and truth go to
                     \${DATA_DIR:-./.data}/demo-history.jsonl.gz and demo-history.truth.json
  --no-history       send the traffic only: no planted population, no model run`;

const MAX_ATTEMPTS = 6;
const REQUEST_TIMEOUT_MS = 30_000;

interface DemoOptions {
  readonly url: string;
  readonly token: string;
  readonly users: number;
  readonly days: number;
  readonly seed: number;
  readonly batch: number;
  readonly concurrency: number;
  /** Users of the planted population; 0 for none. */
  readonly historyUsers: number;
}

const integer = integerOption(USAGE);

function parseOptions(): DemoOptions {
  const values = cliOptions(USAGE, {
    url: { type: 'string' },
    token: { type: 'string' },
    users: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    concurrency: { type: 'string' },
    'history-users': { type: 'string' },
    'no-history': { type: 'boolean' },
  });
  const token = requireToken(values.token);
  return {
    url: (values.url ?? process.env.DEMO_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    token,
    users: integer('users', values.users ?? process.env.DEMO_USERS, 2_000, MAX_USERS),
    days: integer('days', values.days ?? process.env.DEMO_DAYS, 21, MAX_DAYS),
    seed: integer('seed', values.seed, 1 + Math.floor(Math.random() * 2 ** 31), 2 ** 32 - 1),
    batch: integer('batch', values.batch, MAX_EVENTS_PER_REQUEST, MAX_EVENTS_PER_REQUEST),
    concurrency: integer('concurrency', values.concurrency, 4, 64),
    historyUsers: values['no-history'] ? 0 : integer('history-users', values['history-users'] ?? process.env.DEMO_HISTORY_USERS, HISTORY_USERS, MAX_USERS),
  };
}

/** One batch through the client the tests use too; what it gives up on stops the demo with a message for its user. */
async function send(options: DemoOptions, events: readonly IncomingEvent[]): Promise<BatchResult> {
  try {
    return await postEvents(events, { url: options.url, token: options.token, maxAttempts: MAX_ATTEMPTS, timeoutMs: REQUEST_TIMEOUT_MS });
  } catch (error) {
    if (!(error instanceof IngestFailed)) throw error;
    if (error.status === 401 || error.status === 403) {
      throw new Stop(`The token was refused (${error.status}): pass --token, or set DEV_TOKEN to the token \`npm start\` printed.`, 1);
    }
    throw new Stop(error.status === undefined ? `${error.message}. Start the runtime with \`npm start\`, or point --url / DEMO_URL at a running instance.` : error.message, 1);
  }
}

/** Runs another of the product's commands (bin/NAME.ts) under the same Node, its output the demo's. */
function runCommand(name: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, `${name}.ts`), ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Stop(`npm run ${name} stopped (${signal ?? `exit ${code}`}); what it printed above says why.`, 1))));
  });
}

/**
 * The planted population (`npm run population`, its users' consent recorded), imported
 * (`npm run import`) and modelled (`npm run model`): the archetypes and outcomes the models find
 * can be set against what was planted (README "A planted population").
 */
async function sendHistory(options: DemoOptions): Promise<void> {
  const dataDir = process.env.DATA_DIR ?? './.data';
  const out = join(existsSync(dataDir) ? dataDir : '.', 'demo-history.jsonl.gz');
  // One argument each: a token may begin with '-' (base64url), which a parser takes for an option.
  const target = [`--url=${options.url}`, `--token=${options.token}`];
  console.log(`\nA planted population of ${options.historyUsers} users over ${HISTORY_WEEKS} weeks, through the history import:`);
  await runCommand('population', ['--out', out, '--users', String(options.historyUsers), '--weeks', String(HISTORY_WEEKS), '--seed', String(options.seed), '--consent', ...target]);
  await runCommand('import', [out, ...target]);
  console.log('\nThe nightly models, run now on everything stored:');
  await runCommand('model', target);
}

function* batches(events: Iterable<IncomingEvent>, size: number): Generator<IncomingEvent[]> {
  let batch: IncomingEvent[] = [];
  for (const event of events) {
    batch.push(event);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function main(): Promise<number> {
  const options = parseOptions();
  // One instant for the whole run, so the counting pass and the sending pass make the same events.
  const startedAt = new Date();
  const traffic = () => syntheticTraffic({ seed: options.seed, clock: { now: () => startedAt }, users: options.users, days: options.days });

  await checkReachable(options.url);
  let total = 0;
  // The days are yielded in order but a session past midnight steps back, so the range is a min and a max.
  const range = { first: '', last: '' };
  for (const event of traffic()) {
    total += 1;
    if (range.first === '' || event.occurredAt < range.first) range.first = event.occurredAt;
    if (event.occurredAt > range.last) range.last = event.occurredAt;
  }
  console.log(`${total} events from ${options.users} users over ${options.days} days, seed ${options.seed} (pass --seed ${options.seed} to replay)`);

  const bar = new SingleBar(
    { format: '{bar} {percentage}% | {value}/{total} sent | accepted {accepted} | rejected {rejected} | ETA {eta_formatted}', hideCursor: true },
    Presets.shades_classic,
  );
  const totals = { sent: 0, accepted: 0, rejected: 0, requests: 0 };
  const rejectionCodes = new Map<string, number>();
  bar.start(total, 0, { accepted: 0, rejected: 0 });

  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
  };
  process.once('SIGINT', onInterrupt);

  const queue = batches(traffic(), options.batch);
  // Every demo user opts in (analytics and safety monitoring, and some research) before their first
  // event is sent; a worker whose batch holds a user another worker is still consenting waits for that PUT.
  const consents = new Map<string, Promise<void>>();
  const consentOf = (userId: string): Promise<void> => {
    let done = consents.get(userId);
    if (done === undefined) consents.set(userId, (done = putConsent(options.url, options.token, [userId], demoConsentOf(userId))));
    return done;
  };
  let failure: Error | undefined;
  // Workers share one batch iterator, so at most `concurrency` requests are in flight.
  async function worker(): Promise<void> {
    for (let next = queue.next(); !next.done && !interrupted && failure === undefined; next = queue.next()) {
      await Promise.all([...new Set(next.value.map((event) => event.userId))].map(consentOf));
      const result = await send(options, next.value);
      totals.requests += 1;
      totals.sent += next.value.length;
      totals.accepted += result.accepted;
      totals.rejected += result.rejected.length;
      for (const { code } of result.rejected) rejectionCodes.set(code, (rejectionCodes.get(code) ?? 0) + 1);
      bar.update(totals.sent, { accepted: totals.accepted, rejected: totals.rejected });
    }
  }
  const started = Date.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, () =>
      worker().catch((error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      }),
    ),
  );
  bar.stop();
  process.removeListener('SIGINT', onInterrupt);

  const seconds = (Date.now() - started) / 1_000;
  const codes = [...rejectionCodes].map(([code, count]) => `${code} ${count}`).join(', ');
  console.log(
    [
      `${interrupted ? 'Interrupted after' : 'Sent'} ${totals.sent} of ${total} events in ${totals.requests} requests, ${seconds.toFixed(1)} s (${Math.round(totals.sent / Math.max(seconds, 0.001))} events/s)`,
      `  accepted ${totals.accepted}`,
      `  rejected ${totals.rejected}${codes ? ` (${codes})` : ''}`,
      `The events occurred from ${range.first} to ${range.last}: query that range (from=${range.first}&to=${range.last}).`,
      `Only the last ${LIVE_HORIZON_MS / 3_600_000} h of them were live when sent; the rest is history, which raises no alert (README, Monitoring and alerts).`,
    ].join('\n'),
  );
  if (failure !== undefined) throw failure;
  if (interrupted) return 130;
  if (options.historyUsers > 0) await sendHistory(options);
  return 0;
}

runCli(main);
