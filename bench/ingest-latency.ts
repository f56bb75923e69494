/**
 * POST /v1/events with 100 events through the local runtime (a child process, as `npm start`,
 * with its aggregator running): latency percentiles per round and the median p95 over rounds.
 * Requests go one at a time, paced at RATE requests/s (default 10, i.e. 1,000 events/s, 360 times
 * the seed plan's 10,000 interactions an hour); RATE=0 sends them back to back, which saturates
 * the aggregator on the same machine. Embedded mode by default; DATABASE_URL, REDIS_URL and
 * AWS_ENDPOINT_URL switch adapters as they do for `npm start`. Then it tells whether the
 * aggregator kept up: how long after the last answer every accepted event is counted in
 * GET /v1/metrics.
 * `npx tsx bench/ingest-latency.ts` (RATE, ROUNDS, REQUESTS).
 */
import { randomUUID } from 'node:crypto';
import { syntheticTraffic } from '../functions/domain/demo/synthetic-traffic';
import { putConsent } from '../functions/local/consent-client';
import { format, median, sampleLatency, spawnRuntime } from './support';

const RATE = Number(process.env.RATE ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const REQUESTS = Number(process.env.REQUESTS ?? 200);
const EVENTS_PER_REQUEST = 100;

async function main(): Promise<void> {
  const passThrough = Object.fromEntries(
    ['DATABASE_URL', 'REDIS_URL', 'AWS_ENDPOINT_URL'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])),
  ) as Record<string, string>;
  const runtime = await spawnRuntime(passThrough);
  const started = new Date();
  const traffic = syntheticTraffic({ seed: 7, clock: { now: () => started }, users: 20_000, days: 3 });
  const consented = new Set<string>();
  const nextBody = () => {
    const events = Array.from({ length: EVENTS_PER_REQUEST }, () => {
      const next = traffic.next();
      if (next.done) throw new Error('the synthetic traffic ran out');
      return { ...next.value, eventId: randomUUID() };
    });
    return { userIds: events.map((event) => event.userId), body: JSON.stringify({ events }) };
  };
  const post = async (body: string) => {
    const response = await fetch(`${runtime.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' }, body });
    const answer = (await response.json()) as { accepted: number };
    if (response.status !== 202 || answer.accepted !== EVENTS_PER_REQUEST) throw new Error(`unexpected answer ${response.status} ${JSON.stringify(answer)}`);
  };
  // Users consent before their first event, as in the app; untimed.
  const paced = async (count: number) => {
    const requests = Array.from({ length: count }, nextBody);
    const newUsers = requests.flatMap((request) => request.userIds).filter((userId) => !consented.has(userId));
    await putConsent(runtime.url, runtime.token, newUsers);
    for (const userId of newUsers) consented.add(userId);
    return sampleLatency(count, (index) => post(requests[index]!.body), RATE);
  };
  try {
    process.stdout.write(`rate: ${RATE > 0 ? `${RATE} requests/s (${RATE * EVENTS_PER_REQUEST} events/s)` : 'back to back'}; adapters: ${Object.keys(passThrough).join(', ') || 'embedded'}\n`);
    await paced(30);
    const p95s: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const summary = await paced(REQUESTS);
      p95s.push(summary.p95);
      process.stdout.write(`round ${round}: ${REQUESTS} x POST of ${EVENTS_PER_REQUEST} events: ${format(summary)}\n`);
    }
    process.stdout.write(`median p95 over ${ROUNDS} rounds: ${median(p95s).toFixed(2)} ms (target < 20 ms)\n`);
    const accepted = (30 + ROUNDS * REQUESTS) * EVENTS_PER_REQUEST;
    process.stdout.write(`all ${accepted} events counted ${await countedAfter(runtime, started, accepted)} ms after the last answer\n`);
  } finally {
    await runtime.stop();
  }
}

/** Milliseconds until the day totals of `events` over the traffic's days reach `accepted`. */
async function countedAfter(runtime: { url: string; token: string }, started: Date, accepted: number): Promise<number> {
  const lastAnswer = performance.now();
  const dayStart = (ms: number) => new Date(Math.floor(ms / 86_400_000) * 86_400_000).toISOString();
  const range = `from=${dayStart(started.getTime() - 3 * 86_400_000)}&to=${dayStart(started.getTime() + 86_400_000)}&interval=day`;
  for (;;) {
    const response = await fetch(`${runtime.url}/v1/metrics/events?${range}`, { headers: { authorization: `Bearer ${runtime.token}` } });
    const body = (await response.json()) as { series: { points: { count: number }[] }[] };
    const counted = body.series.flatMap((series) => series.points).reduce((sum, point) => sum + point.count, 0);
    if (counted >= accepted) return Math.round(performance.now() - lastAnswer);
    if (performance.now() - lastAnswer > 300_000) throw new Error(`only ${counted} of ${accepted} events counted 5 minutes after the last answer`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
