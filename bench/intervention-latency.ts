/**
 * From `POST /v1/events` of a crisis signal carrying the app's channel token to the signed
 * `intervention.recommended` at the app's webhook, through the local runtime (a child process, as
 * `npm start`, embedded mode: PGlite and the LMDB stream) with INTERVENTION_WEBHOOK_URL set to a
 * receiver in this process. The latency is the receiver's clock at the webhook's request minus
 * the moment before the POST, both on this process's clock. Events go one at a time, each from a
 * new user, so each measures the idle-to-intervention path a crisis takes.
 * `npx tsx bench/intervention-latency.ts` (ROUNDS, EVENTS per round).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { INTERVENTION_SIGNATURE_HEADER, verifyInterventionSignature, type InterventionMessage } from '../functions/domain/alerting/intervention';
import { putConsent } from '../functions/local/consent-client';
import { median, percentile, spawnRuntime } from './support';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const EVENTS = Number(process.env.EVENTS ?? 100);
const SECRET = 'bench-intervention-webhook-secret-0123456789';

async function main(): Promise<void> {
  const arrivals = new Map<string, (at: number) => void>();
  let unsigned = 0;
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verifyInterventionSignature(body, String(request.headers[INTERVENTION_SIGNATURE_HEADER]), SECRET, new Date())) unsigned += 1;
      arrivals.get((JSON.parse(body) as InterventionMessage).channelToken)?.(at);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/interventions`;
  const runtime = await spawnRuntime({ INTERVENTION_WEBHOOK_URL: webhook, INTERVENTION_WEBHOOK_SECRET: SECRET });

  const interveneOnce = async (userId: string): Promise<number> => {
    const channelToken = `bench-token-${randomUUID()}`;
    const arrived = new Promise<number>((resolve) => arrivals.set(channelToken, resolve));
    const event = { eventId: randomUUID(), type: 'crisis.signal', occurredAt: new Date().toISOString(), userId, sessionId: `s-${userId}`, attributes: { severity: 'imminent', source: 'self_report' }, context: { channelToken } };
    const before = performance.now();
    const response = await fetch(`${runtime.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ events: [event] }) });
    if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no intervention for ${userId} within 10 s`)), 10_000).unref());
    const at = await Promise.race([arrived, timeout]);
    arrivals.delete(channelToken);
    return at - before;
  };
  try {
    const users = (round: number) => Array.from({ length: EVENTS }, (_, index) => `bench-intervention-user-${round}-${index}`);
    const watched = { analytics: true, research: false, safety_monitoring: true };
    // Warm-up: the first events also load the rules and open the webhook's connection.
    await putConsent(runtime.url, runtime.token, users(0).slice(0, 5), watched);
    for (const userId of users(0).slice(0, 5)) await interveneOnce(userId);
    const p99s: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Consent is given before the user's first event, as in the app; untimed.
      await putConsent(runtime.url, runtime.token, users(round), watched);
      const latencies: number[] = [];
      for (const userId of users(round)) latencies.push(await interveneOnce(userId));
      latencies.sort((a, b) => a - b);
      p99s.push(percentile(latencies, 0.99));
      const ms = (q: number) => percentile(latencies, q).toFixed(1);
      process.stdout.write(`round ${round}: ${EVENTS} crisis events -> intervention at the webhook: p50 ${ms(0.5)} ms, p95 ${ms(0.95)} ms, p99 ${ms(0.99)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms\n`);
    }
    process.stdout.write(`median p99 over ${ROUNDS} rounds: ${median(p99s).toFixed(1)} ms (target < 1000 ms); unsigned requests: ${unsigned}\n`);
  } finally {
    await runtime.stop();
    receiver.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
