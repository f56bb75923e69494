import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '../../functions/adapters/log';
import { parseEnv } from '../../functions/config/env';
import { localEnv } from '../../functions/config/local';
import { startRuntime } from '../../functions/local/runtime';
import { putConsent } from '../../functions/local/consent-client';
import { eventSchema } from '../../functions/domain/events/schema';
import { makeEvent, SAMPLE_ATTRIBUTES } from '../support/events';
import { PII_FORMATS } from '../support/pii-formats';
import { describeWithServices, freshPostgresUrl, freshRedisPrefix, urls } from '../support/services';
import { dumpRedis, dumpTables, type Dump } from '../support/store-dump';
import { postgresDatabase } from '../../functions/adapters/pg/database';
import { dynamoDbClient, kinesisClient, s3Client, sqsClient } from '../../functions/adapters/aws/clients';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { KinesisEventStream } from '../../functions/adapters/aws/kinesis-stream';
import { SqsDeadLetterQueue, ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { motoData } from '../support/moto';

/** The formats of the detector's table that an identifier field takes (no spaces, no +): the others the schema refuses first. */
const PLANTABLE = PII_FORMATS.filter((f) => eventSchema.safeParse(makeEvent({ attributes: { screen: f.make(0), activeSec: 30 } }, 'engagement.heartbeat')).success);

/** Distinct planted PII, cycling through every plantable format of every kind. */
const canary = (i: number, slot: number): string => PLANTABLE[(i * 5 + slot) % PLANTABLE.length]!.make(i * 10 + slot);

/** Every string field the event types keep, filled with canaries. */
function plantedEvent(i: number): { event: Record<string, unknown>; canaries: string[] } {
  const canaries: string[] = [];
  const plant = () => {
    const value = canary(i, canaries.length);
    canaries.push(value);
    return value;
  };
  const occurredAt = new Date(Date.now() - 60_000).toISOString();
  const ids = { occurredAt, userId: plant(), sessionId: `session-${i}` };
  switch (i % 5) {
    case 0:
      return { event: makeEvent({ ...ids, attributes: { scenarioId: plant(), channel: plant() } }, 'session.started'), canaries };
    case 1:
      return { event: makeEvent({ ...ids, attributes: { ...SAMPLE_ATTRIBUTES['session.ended'], scenarioId: plant() } }, 'session.ended'), canaries };
    case 2:
      return { event: makeEvent({ ...ids, attributes: { ...SAMPLE_ATTRIBUTES['choice.made'], scenarioId: plant(), sceneId: plant(), choiceId: plant() } }, 'choice.made'), canaries };
    case 3:
      return { event: makeEvent({ ...ids, attributes: { ...SAMPLE_ATTRIBUTES['progress.milestone'], goalId: plant() } }, 'progress.milestone'), canaries };
    default:
      return { event: makeEvent({ ...ids, attributes: { screen: plant(), activeSec: 30 } }, 'engagement.heartbeat'), canaries };
  }
}

/** Every file under the folder, as bytes: databases, the stream, the pepper and the rest, but the paths `except`. */
function filesUnder(dir: string, except: readonly string[] = []): Buffer[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (except.includes(path)) return [];
    return statSync(path).isDirectory() ? filesUnder(path, except) : [readFileSync(path)];
  });
}

/**
 * The app's channel token of the crisis that is taken: it goes back to the app in the
 * intervention, and must be in no store, log, alert or answer (the stream holds it sealed).
 */
const CHANNEL_TOKEN_CANARY = `canary-channel-token-${randomBytes(12).toString('hex')}`;

interface CanaryRun {
  /** Every canary planted, and the user id that may carry PII because only its pseudonym is kept. */
  readonly everything: string[];
  readonly logs: string[];
  readonly answers: string[];
  /** The stores' content, read while the runtime still runs (stores it holds open are read after). */
  readonly dumps: Dump[];
}

/** 1,000 events of planted PII through a runtime with `env`, then every answer, log line and store dump. */
async function plantCanaries(dataDir: string, env: Record<string, string>, dumpStores: () => Promise<Dump[]>): Promise<CanaryRun> {
  const logs: string[] = [];
  const runtime = await startRuntime(parseEnv(localEnv, { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'debug', ...env }), jsonLogger('local', 'debug', (line) => logs.push(line)));
  const planted = Array.from({ length: 1_000 }, (_, i) => plantedEvent(i));
  const answers: string[] = [];
  try {
    for (let from = 0; from < planted.length; from += 500) {
      const response = await fetch(`${runtime.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.tokens.devToken}` },
        body: JSON.stringify({ events: planted.slice(from, from + 500).map((p) => p.event) }),
      });
      const text = await response.text();
      answers.push(text);
      const body = JSON.parse(text) as { accepted: number; rejected: { index: number; code: string; message: string }[] };
      expect(body.accepted).toBe(0);
      expect(body.rejected).toHaveLength(500);
      expect(body.rejected.filter((r) => !(r.code === 'pii_detected' && /^attributes\.\w+: /.test(r.message))).slice(0, 3)).toEqual([]);
    }
    // Only the pseudonymised user id may hold PII and still be taken: its events are counted under a
    // pseudonym, and its crisis signal raises an alert that names the pseudonym on every channel.
    const pseudonymOnly = [
      makeEvent({ userId: 'canary-user@example.org' }),
      makeEvent({ userId: 'canary-user@example.org', attributes: { severity: 'imminent', source: 'self_report' }, context: { channelToken: CHANNEL_TOKEN_CANARY } }, 'crisis.signal'),
    ];
    await putConsent(runtime.url, runtime.tokens.devToken, ['canary-user@example.org'], { analytics: true, research: true, safety_monitoring: true });
    expect(
      await (
        await fetch(`${runtime.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.tokens.devToken}` },
          body: JSON.stringify({ events: pseudonymOnly }),
        })
      ).json(),
    ).toEqual({ accepted: 2, rejected: [] });
    await runtime.drain();
    await runtime.detect();
    const alerts = await (await fetch(`${runtime.url}/v1/alerts`, { headers: { authorization: `Bearer ${runtime.tokens.devToken}` } })).text();
    expect(JSON.parse(alerts).alerts).toHaveLength(1);
    answers.push(alerts);
    // Reports of each kind, as HTML and CSV (text a search can read), so the object store holds files to search too.
    const reportBodies = [
      { kind: 'research', epsilon: 0.1 },
      { kind: 'outcomes', format: 'html' },
      { kind: 'operations', format: 'csv' },
    ];
    for (const body of reportBodies) {
      const report = await fetch(`${runtime.url}/v1/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.tokens.devToken}` },
        body: JSON.stringify({ ...body, from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() }),
      });
      expect(report.status).toBe(202);
      const { id } = (await report.json()) as { id: string };
      await runtime.reportsIdle();
      const page = await (await fetch(`${runtime.url}/v1/reports/${id}`, { headers: { authorization: `Bearer ${runtime.tokens.devToken}` } })).json() as { status: string; error?: unknown; files: { url: string }[] };
      expect([page.status, page.error]).toEqual(['done', undefined]);
      answers.push(JSON.stringify(page), await (await fetch(page.files[0]!.url)).text());
    }
    const dumps = await dumpStores();
    return { everything: [...planted.flatMap((p) => p.canaries), 'canary-user@example.org', CHANNEL_TOKEN_CANARY], logs, answers, dumps };
  } finally {
    await runtime.stop();
  }
}

/** No canary in any text; and the search can find one, so a miss means none is there. */
function expectNoCanary(run: CanaryRun, more: readonly string[]): void {
  expect(run.everything).toHaveLength(new Set(run.everything).size);
  // One pass over each text for all canaries at once.
  const anyCanary = new RegExp(run.everything.map((value) => value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g');
  const texts = [...run.dumps.map((dump) => dump.text), ...more, ...run.logs, ...run.answers];
  expect(texts.flatMap((text) => text.match(anyCanary) ?? [])).toEqual([]);
  expect(run.logs.length).toBeGreaterThan(0);
  expect(`stored ${run.everything[0]} here`.match(anyCanary)).toEqual([run.everything[0]]);
}

describe('PII canaries through the embedded runtime', () => {
  it('plants every kind of PII, in a dozen formats or more', () => {
    expect(new Set(PLANTABLE.map((f) => f.kind))).toEqual(new Set(['email', 'phone', 'ip_address', 'card_number', 'national_id']));
    expect(PLANTABLE.length).toBeGreaterThanOrEqual(12);
  });

  it('refuses 1,000 events carrying distinct planted PII in every string field, and no store, log or answer holds any of it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pii-canaries-'));
    try {
      const run = await plantCanaries(dataDir, {}, async () => []);
      // Every file of the data folder (databases, stream, consent registry, pepper), as bytes, but
      // the interventions' outbox: it stands in for the message to the app, which carries the token.
      const interventions = join(dataDir, 'interventions');
      expect(readFileSync(join(interventions, 'outbox.jsonl'), 'utf8')).toContain(`"channelToken":"${CHANNEL_TOKEN_CANARY}"`);
      const files = filesUnder(dataDir, [interventions]).map((bytes) => bytes.toString('latin1'));
      // The outbox (the embedded mode's SNS and SES) was written, and is among the files searched.
      expect(readFileSync(join(dataDir, 'alerts', 'outbox.jsonl'), 'utf8')).toContain('CRITICAL');
      expectNoCanary(run, files);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describeWithServices(['postgres', 'redis', 'moto'], 'PII canaries through PostgreSQL, Redis, Kinesis, DynamoDB and SQS', () => {
  it('leaves none of 1,000 events of planted PII in any table, Redis key, stream record, consent item or dead letter', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pii-canaries-'));
    const postgres = await freshPostgresUrl();
    const prefix = freshRedisPrefix();
    const streamName = `canaries-${randomBytes(4).toString('hex')}`;
    const db = postgresDatabase(postgres.url, { max: 1 });
    const dynamo = DynamoDBDocumentClient.from(dynamoDbClient({ endpoint: urls.moto }));
    try {
      const run = await plantCanaries(dataDir, { DATABASE_URL: postgres.url, REDIS_URL: urls.redis, REDIS_KEY_PREFIX: prefix, AWS_ENDPOINT_URL: urls.moto, STREAM_NAME: streamName }, async () => {
        const stream = new KinesisEventStream(kinesisClient({ endpoint: urls.moto }), streamName);
        const records: string[] = [];
        for (const shardId of await stream.listShards()) for (const record of await stream.readShard(shardId, undefined, 10_000)) records.push(`${record.partitionKey} ${Buffer.from(record.data).toString('utf8')}`);
        const consent = await dynamo.send(new ScanCommand({ TableName: `${streamName}-consent` }));
        const sqs = sqsClient({ endpoint: urls.moto });
        const letters = await new SqsDeadLetterQueue(sqs, await ensureQueue(sqs, `${streamName}-aggregate-dlq`), { waitTimeSeconds: 0 }).list(100);
        const s3 = s3Client({ endpoint: urls.moto });
        const bucket = `${streamName}-reports`;
        const objects: string[] = [];
        for (const { Key } of (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []) {
          objects.push(`${Key} ${(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body?.transformToString()) ?? ''}`);
        }
        return [
          ...(await dumpTables(db)),
          ...(await dumpRedis(prefix)),
          { where: 'kinesis', text: records.join('\n') },
          { where: 'dynamodb:consent', text: JSON.stringify(consent.Items ?? []) },
          { where: 'sqs:dead letters', text: JSON.stringify(letters) },
          { where: 's3:reports', text: objects.join('\n') },
          // What moto keeps of SNS publishes and SES e-mails: the alert's SMS, e-mail and page.
          { where: 'sns and ses', text: JSON.stringify([...(await motoData(urls.moto, 'sns', 'Topic')), ...(await motoData(urls.moto, 'ses', 'TemplateMessage'))]) },
        ];
      });

      // The stores were read: the accepted event is in the stream, its user in the registry and the tables.
      expect(run.dumps.filter((dump) => dump.text.length > 0).map((dump) => dump.where)).toEqual(
        expect.arrayContaining(['kinesis', 'dynamodb:consent', 'postgresql:rollups', 'postgresql:research_values', 'postgresql:audit_log', 'postgresql:alerts', 's3:reports', 'sns and ses']),
      );
      expectNoCanary(run, []);
    } finally {
      await db.close();
      dynamo.destroy();
      await postgres.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
