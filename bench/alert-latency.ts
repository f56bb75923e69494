/**
 * From `POST /v1/events` of a crisis signal to the SNS publish of its alert, through the local
 * runtime (a child process, as `npm start`) against moto, PostgreSQL and Redis. An SQS queue
 * subscribed to the critical topic receives each notification; its SNS envelope carries the
 * time moto accepted the Publish, and the latency is that time minus the moment before the POST.
 * Events go one at a time (each from a new user: a repeat for the same user would be deduplicated,
 * rightly, and never published), so each measures an idle-to-alert path, the one a crisis takes.
 * `npx tsx bench/alert-latency.ts` (ROUNDS, ALERTS; AWS_ENDPOINT_URL, DATABASE_URL, REDIS_URL).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { snsClient, sqsClient } from '../functions/adapters/aws/clients';
import { ensureAlertTopics } from '../functions/adapters/aws/sns-channel';
import { putConsent } from '../functions/local/consent-client';
import { tapTopic } from '../test/support/moto';
import { dropSchema, median, percentile, schemaUrl, spawnRuntime } from './support';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ALERTS = Number(process.env.ALERTS ?? 100);
const ENDPOINT = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:5000';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  const stream = `bench-alerts-${randomBytes(4).toString('hex')}`;
  const schema = `bench_alerts_${randomBytes(4).toString('hex')}`;
  const sns = snsClient({ endpoint: ENDPOINT });
  const sqs = sqsClient({ endpoint: ENDPOINT });
  const topics = await ensureAlertTopics(sns, stream);
  const tap = await tapTopic(sns, sqs, topics.critical, `${stream}-critical-tap`);

  const runtime = await spawnRuntime({ AWS_ENDPOINT_URL: ENDPOINT, DATABASE_URL: await schemaUrl(schema), REDIS_URL, REDIS_KEY_PREFIX: `${stream}:`, STREAM_NAME: stream });
  const publishedAt = async (): Promise<number> => {
    for (;;) {
      const [envelope, ...more] = await tap.receive();
      if (more.length > 0) throw new Error('more than one notification for one crisis event');
      if (envelope) return Date.parse(envelope.Timestamp);
    }
  };
  const alertOnce = async (userId: string): Promise<number> => {
    const event = { eventId: randomUUID(), type: 'crisis.signal', occurredAt: new Date().toISOString(), userId, sessionId: `s-${userId}`, attributes: { severity: 'imminent', source: 'self_report' } };
    const before = Date.now();
    const response = await fetch(`${runtime.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ events: [event] }) });
    if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}`);
    return (await publishedAt()) - before;
  };
  try {
    const users = (round: number) => Array.from({ length: ALERTS }, (_, index) => `bench-user-${round}-${index}`);
    // Warm-up: the first alert also creates the topics' clients and the rule cache.
    await putConsent(runtime.url, runtime.token, users(0).slice(0, 5));
    for (const userId of users(0).slice(0, 5)) await alertOnce(userId);
    const p99s: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Consent is given before the user's first event, as in the app; untimed.
      await putConsent(runtime.url, runtime.token, users(round));
      const latencies: number[] = [];
      for (const userId of users(round)) latencies.push(await alertOnce(userId));
      latencies.sort((a, b) => a - b);
      p99s.push(percentile(latencies, 0.99));
      process.stdout.write(
        `round ${round}: ${ALERTS} crisis events -> SNS publish: p50 ${percentile(latencies, 0.5)} ms, p95 ${percentile(latencies, 0.95)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${latencies[latencies.length - 1]} ms\n`,
      );
    }
    process.stdout.write(`median p99 over ${ROUNDS} rounds: ${median(p99s)} ms (target < 1000 ms)\n`);
  } finally {
    await runtime.stop();
    await tap.close();
    await dropSchema(schema);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
