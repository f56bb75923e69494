/**
 * How long the emulated mode takes to work again after its emulator restarted empty: `npm start`
 * (a child process) against a moto of its own and PostgreSQL. Each round counts 20 events, restarts
 * moto, then posts 20 events of new users as a client does (consent first, events answered
 * `stream_unavailable` sent again) and measures, from the moment moto answers again, the time until
 * all 20 are accepted and until all 20 are counted by GET /v1/metrics/events. It also checks that
 * the count is exact and that no answer was a 5xx. The same rounds without a restart first give
 * the baseline: what the 20 consents, the post and the poll cost anyway.
 * `npx tsx bench/emulator-restart.ts` (ROUNDS; DATABASE_URL). Needs `moto_server` on PATH.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { putConsent } from '../functions/local/consent-client';
import { startPrivateMoto } from '../test/support/moto';
import { dropSchema, median, schemaUrl, spawnRuntime } from './support';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const EVENTS = 20;

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  const stream = `bench-restart-${randomBytes(4).toString('hex')}`;
  const schema = `bench_restart_${randomBytes(4).toString('hex')}`;
  const moto = await startPrivateMoto();
  const runtime = await spawnRuntime({ AWS_ENDPOINT_URL: moto.endpoint, DATABASE_URL: await schemaUrl(schema), STREAM_NAME: stream });
  const headers = { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' };
  const from = new Date(Date.now() - 3 * 3_600_000).toISOString();
  const to = new Date(Date.now() + 3 * 3_600_000).toISOString();
  let serverErrors = 0;

  const counted = async (): Promise<number> => {
    const response = await fetch(`${runtime.url}/v1/metrics/events?from=${from}&to=${to}&interval=day`, { headers });
    if (response.status >= 500) serverErrors += 1;
    const body = (await response.json()) as { series?: { points: { count: number }[] }[] };
    return (body.series ?? []).flatMap((series) => series.points).reduce((sum, point) => sum + point.count, 0);
  };
  const postAll = async (round: number): Promise<void> => {
    const users = Array.from({ length: EVENTS }, (_, index) => `bench-${round}-${index}`);
    // A consent answered 5xx is counted and sent again, as a client would.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await putConsent(runtime.url, runtime.token, users);
        break;
      } catch (error) {
        serverErrors += 1;
        if (attempt === 20) throw error;
      }
    }
    let pending = users.map((userId) => ({ eventId: randomUUID(), type: 'session.started', occurredAt: new Date(Date.now() - 60_000).toISOString(), userId, sessionId: `s-${userId}`, attributes: { scenarioId: 'forest-path', channel: 'app' } }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > 20) throw new Error(`${pending.length} events not accepted after 20 posts`);
      const response = await fetch(`${runtime.url}/v1/events`, { method: 'POST', headers, body: JSON.stringify({ events: pending }) });
      if (response.status !== 202) {
        if (response.status >= 500) serverErrors += 1;
        else throw new Error(`POST /v1/events answered ${response.status}`);
        continue;
      }
      const { rejected } = (await response.json()) as { rejected: { index: number; code: string }[] };
      if (rejected.some((rejection) => rejection.code !== 'stream_unavailable')) throw new Error(`rejected: ${JSON.stringify(rejected)}`);
      pending = rejected.map((rejection) => pending[rejection.index]!);
    }
  };
  const untilCounted = async (expected: number): Promise<void> => {
    for (let waited = 0; (await counted()) < expected; waited += 50) {
      if (waited > 120_000) throw new Error(`not ${expected} counted within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  let round = 0;
  /** One round: 20 new users' consents and events, timed from `start` until accepted and until counted. */
  const timedRound = async (start: () => Promise<void>, label: string) => {
    await start();
    const began = performance.now();
    round += 1;
    await postAll(round);
    const accepted = performance.now() - began;
    await untilCounted(EVENTS * (round + 1));
    const countedAfter = performance.now() - began;
    const total = await counted();
    if (total !== EVENTS * (round + 1)) throw new Error(`counted ${total}, expected ${EVENTS * (round + 1)}`);
    console.log(`${label}: ${EVENTS} accepted ${accepted.toFixed(0)} ms and counted ${countedAfter.toFixed(0)} ms; ${total} counted in all`);
    return { accepted, countedAfter };
  };
  const summary = (rounds: { accepted: number; countedAfter: number }[]) =>
    `accepted ${median(rounds.map((r) => r.accepted)).toFixed(0)} ms, counted ${median(rounds.map((r) => r.countedAfter)).toFixed(0)} ms`;
  try {
    await postAll(0);
    await untilCounted(EVENTS);
    const baseline = [];
    for (let index = 0; index < ROUNDS; index += 1) baseline.push(await timedRound(async () => undefined, 'without a restart'));
    const restarted = [];
    for (let index = 0; index < ROUNDS; index += 1) restarted.push(await timedRound(() => moto.restart(), 'after moto answered again'));
    console.log(`median over ${ROUNDS} rounds: without a restart ${summary(baseline)}; after a restart ${summary(restarted)}; ${serverErrors} answers 5xx`);
  } finally {
    await runtime.stop();
    await moto.stop();
    await dropSchema(schema);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
