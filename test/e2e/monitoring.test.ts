import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { snsClient, sqsClient } from '../../functions/adapters/aws/clients';
import { ensureAlertTopics } from '../../functions/adapters/aws/sns-channel';
import { makeEvent } from '../support/events';
import { motoData, tapTopic } from '../support/moto';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { describeWithServices, freshPostgresUrl, freshRedisPrefix, urls } from '../support/services';

const RULE_CACHE_MS = 5_000;
const WATCHED = { analytics: true, research: false, safety_monitoring: true };
const NOT_WATCHED = { analytics: true, research: false, safety_monitoring: false };

const crisis = (userId: string, severity = 'imminent') => makeEvent({ userId, attributes: { severity, source: 'self_report' } }, 'crisis.signal');
/** A PHQ-9 whose item scores add up to `score` (as validation requires), item 9 as given. */
const phq9 = (userId: string, score: number, minutesAgo: number, item9 = 0) => {
  const items = Array.from({ length: 8 }, (_, index) => Math.min(3, Math.max(0, score - item9 - 3 * index)));
  return makeEvent({ userId, occurredAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(), attributes: { instrument: 'PHQ-9', score, items: [...items, item9] } }, 'assessment.completed');
};
const choice = (userId: string, emotionalStateAfter: string) => makeEvent({ userId, attributes: { ...makeEvent({}, 'choice.made')['attributes'] as object, emotionalStateAfter } }, 'choice.made');

/** Sends events (the users already consented) and runs the detect consumer over them. */
async function send(app: TestRuntime, events: Record<string, unknown>[]): Promise<void> {
  const posted = await app.request('POST', '/v1/events', { body: { events } });
  expect(posted.body.accepted).toBe(events.length);
  await app.runtime.detect();
}

const alertsOf = async (app: TestRuntime) => (await app.request('GET', '/v1/alerts')).body.alerts as { id: string; rule: string; severity: string; status: string; subject: string; notifications: { kind: string; channel: string; status: string }[] }[];

describe('monitoring through the local runtime (embedded)', () => {
  let app: TestRuntime;
  const outbox = () => readFileSync(join(app.dataDir, 'alerts', 'outbox.jsonl'), 'utf8').trim().split('\n');

  beforeAll(async () => {
    app = await startTestRuntime();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('raises one critical alert for an imminent crisis signal, notifies once on every channel, and not again for the same record', async () => {
    const consent = await app.request('PUT', '/v1/consent/raw-crisis-user-1', { body: WATCHED });
    const event = crisis('raw-crisis-user-1');

    await send(app, [event]);
    await send(app, [event]);

    const [alert, ...others] = await alertsOf(app);
    expect(others).toEqual([]);
    expect(alert).toMatchObject({ rule: 'crisis-signal', severity: 'critical', status: 'firing', subject: `user:${consent.body.subject}` });
    expect(alert!.notifications.map((n) => [n.kind, n.channel, n.status]).sort()).toEqual([
      ['firing', 'dashboard', 'delivered'],
      ['firing', 'email', 'delivered'],
      ['firing', 'sns', 'delivered'],
    ]);
    const lines = outbox();
    expect(lines.map((line) => JSON.parse(line).channel).sort()).toEqual(['email', 'sns']);
    expect(lines.join('\n')).toContain(consent.body.subject);
    expect(lines.join('\n')).not.toContain('raw-crisis-user-1');
  });

  it('watches only users with safety-monitoring consent, and only the severities the rule names', async () => {
    await app.consent(['not-watched'], NOT_WATCHED);
    await app.consent(['moderate'], WATCHED);
    const before = (await alertsOf(app)).length;

    await send(app, [crisis('not-watched'), crisis('moderate', 'moderate'), choice('moderate', 'distressed')]);

    expect(await alertsOf(app)).toHaveLength(before);
  });

  it('warns on a PHQ-9 rise of 5 between two assessments, and pages on item 9 above 0', async () => {
    await app.consent(['worsening'], WATCHED);

    await send(app, [phq9('worsening', 8, 30), phq9('worsening', 13, 5)]);
    await send(app, [phq9('worsening', 14, 1, 2)]);

    const rules = (await alertsOf(app)).map((a) => [a.rule, a.severity]);
    expect(rules).toEqual(expect.arrayContaining([['phq9-rise', 'warning'], ['phq9-item9', 'critical']]));
  });

  it('records a silenced alert without sending it, and acknowledges an alert', async () => {
    const silence = await app.request('POST', '/v1/silences', { body: { matchers: [{ name: 'rule', value: 'emotional-state-crisis' }], endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'drill' } });
    expect(silence.status).toBe(201);
    await app.consent(['in-a-drill'], WATCHED);
    const sentBefore = outbox().length;

    await send(app, [choice('in-a-drill', 'crisis')]);

    const silenced = (await alertsOf(app)).find((a) => a.rule === 'emotional-state-crisis')!;
    expect(silenced.notifications.map((n) => n.status)).toEqual(['silenced', 'silenced', 'silenced']);
    expect(outbox()).toHaveLength(sentBefore);
    const acked = await app.request('POST', `/v1/alerts/${silenced.id}/ack`);
    expect(acked.body).toMatchObject({ id: silenced.id, status: 'acknowledged' });
    expect((await app.request('GET', '/v1/silences')).body.silences.map((s: { id: string }) => s.id)).toContain(silence.body.id);
    expect((await app.request('DELETE', `/v1/silences/${silence.body.id}`)).status).toBe(200);
  });

  it('answers bad input with a 4xx naming the field', async () => {
    const unknownAlert = await app.request('POST', '/v1/alerts/00000000-0000-4000-8000-000000000000/ack');
    const badId = await app.request('POST', '/v1/alerts/not-an-id/ack');
    const badRules = await app.request('PUT', '/v1/alert-rules', { body: { rules: [{ id: 'x', kind: 'threshold', severity: 'loud' }] } });
    const badSilence = await app.request('POST', '/v1/silences', { body: { matchers: [], endsAt: 'soon', comment: 'x' } });
    const badStatus = await app.request('GET', '/v1/alerts?status=burning');
    const badAnomalies = await app.request('GET', '/v1/anomalies?from=yesterday&to=now');

    expect([unknownAlert.status, badId.status, badRules.status, badSilence.status, badStatus.status, badAnomalies.status]).toEqual([404, 400, 400, 400, 400, 400]);
    expect(badId.body.error.message).toMatch(/^id:/);
    expect(JSON.stringify(badRules.body.error)).toContain('rules.0');
    expect(JSON.stringify(badSilence.body.error)).toContain('matchers');
    expect(badStatus.body.error.details.parameter).toBe('status');
    expect(badAnomalies.body.error.details.parameter).toBe('from');
  });

  it('pages a crisis with a pathological silence in force, and refuses a pattern RE2 cannot run, naming the field', async () => {
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    // Backtracking engines take 2^n steps on a label without `!`, such as the alert's subject.
    const pathological = await app.request('POST', '/v1/silences', { body: { matchers: [{ name: 'subject', value: '([^!]+)+!', isRegex: true }], endsAt, comment: 'fuzz' } });
    const lookahead = await app.request('POST', '/v1/silences', { body: { matchers: [{ name: 'rule', value: 'x' }, { name: 'rule', value: 'crisis(?=-signal)', isRegex: true }], endsAt, comment: 'x' } });
    const consent = await app.request('PUT', '/v1/consent/raw-crisis-user-2', { body: WATCHED });
    const sentBefore = outbox().length;

    await send(app, [crisis('raw-crisis-user-2')]);

    expect(pathological.status).toBe(201);
    expect([lookahead.status, lookahead.body.error.details]).toEqual([400, { field: 'matchers.1.value' }]);
    expect(lookahead.body.error.message).toMatch(/^matchers\[1\]\.value: is not a pattern RE2 accepts/);
    const paged = (await alertsOf(app)).find((a) => a.subject === `user:${consent.body.subject}`)!;
    expect(paged.notifications.map((n) => [n.channel, n.status]).sort()).toEqual([
      ['dashboard', 'delivered'],
      ['email', 'delivered'],
      ['sns', 'delivered'],
    ]);
    expect(outbox().slice(sentBefore).map((line) => JSON.parse(line).channel).sort()).toEqual(['email', 'sns']);
  });

  it('serves the default safety rules, and takes a rule change without a restart', async () => {
    const defaults = (await app.request('GET', '/v1/alert-rules')).body.rules as { id: string; enabled: boolean }[];
    expect(defaults.map((r) => r.id)).toEqual(expect.arrayContaining(['crisis-signal', 'emotional-state-crisis', 'phq9-item9', 'phq9-rise', 'at-risk-no-session']));
    const crisisRule = defaults.find((r) => r.id === 'crisis-signal')!;

    const put = await app.request('PUT', '/v1/alert-rules', { body: { rules: [{ ...crisisRule, enabled: false }] } });

    expect(put.status).toBe(200);
    expect((await app.request('GET', '/v1/alert-rules')).body.rules.find((r: { id: string }) => r.id === 'crisis-signal').enabled).toBe(false);
    // The detect consumer reads rules through a 5 s cache: past it, the disabled rule raises nothing.
    await new Promise((resolve) => setTimeout(resolve, RULE_CACHE_MS + 200));
    await app.consent(['after-the-change'], WATCHED);
    const before = (await alertsOf(app)).length;
    await send(app, [crisis('after-the-change')]);
    expect(await alertsOf(app)).toHaveLength(before);
  });
});

describeWithServices(['postgres', 'redis', 'moto'], 'monitoring through the local runtime (moto SNS and SES, PostgreSQL, Redis)', () => {
  const stream = `monitoring-${randomBytes(4).toString('hex')}`;
  const from = `alerts-${stream}@example.org`;
  const prefix = freshRedisPrefix();
  let app: TestRuntime;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const postgres = await freshPostgresUrl();
    drop = postgres.drop;
    app = await startTestRuntime({ AWS_ENDPOINT_URL: urls.moto, DATABASE_URL: postgres.url, REDIS_URL: urls.redis, REDIS_KEY_PREFIX: prefix, STREAM_NAME: stream, ALERT_EMAIL_FROM: from });
  });
  afterAll(async () => {
    await app?.stop();
    await drop?.();
  });

  it('publishes the crisis alert to the critical topic, e-mails it through SES and feeds the dashboard, naming only the pseudonym', async () => {
    const sns = snsClient({ endpoint: urls.moto });
    const tap = await tapTopic(sns, sqsClient({ endpoint: urls.moto }), (await ensureAlertTopics(sns, stream)).critical, `${stream}-tap`);
    const subscriber = new Redis(urls.redis);
    const reader = new Redis(urls.redis);
    const published: string[] = [];
    await subscriber.subscribe(`${prefix}alerts`);
    subscriber.on('message', (_channel, message: string) => published.push(message));
    try {
      const subject = (await app.request('PUT', '/v1/consent/raw-user-on-moto', { body: WATCHED })).body.subject as string;

      await send(app, [crisis('raw-user-on-moto')]);

      const [envelope, ...more] = await tap.receive(5);
      expect(more).toEqual([]);
      expect(envelope!.Subject).toMatch(/CRITICAL/);
      expect(envelope!.Message).toContain(subject);
      const emails = (await motoData(urls.moto, 'ses', 'TemplateMessage')).filter((m) => m['source'] === from);
      expect(emails).toHaveLength(1);
      expect(String(emails[0]!['template_data'])).toContain(subject);
      const feed = await reader.lrange(`${prefix}alerts:critical`, 0, -1);
      expect(feed).toHaveLength(1);
      expect(feed[0]).toContain(subject);
      expect(published).toEqual(feed);
      for (const text of [envelope!.Message, JSON.stringify(emails), ...feed]) expect(text).not.toContain('raw-user-on-moto');
    } finally {
      await tap.close();
      subscriber.disconnect();
      reader.disconnect();
    }
  });
});
