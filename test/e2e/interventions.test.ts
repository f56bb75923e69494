import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { INTERVENTION_SIGNATURE_HEADER, recommendationId, verifyInterventionSignature, type InterventionMessage } from '../../functions/domain/alerting/intervention';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { waitFor } from '../support/wait';

const WATCHED = { analytics: true, research: false, safety_monitoring: true };
const NOT_WATCHED = { analytics: true, research: false, safety_monitoring: false };
const token = (name: string) => `${name}-channel-token-0123456789`;

const crisis = (userId: string, channelToken?: string, severity = 'imminent') =>
  makeEvent({ userId, attributes: { severity, source: 'self_report' }, context: { platform: 'ios', ...(channelToken && { channelToken }) } }, 'crisis.signal');

async function send(app: TestRuntime, events: Record<string, unknown>[]): Promise<void> {
  const posted = await app.request('POST', '/v1/events', { body: { events } });
  expect(posted.body).toMatchObject({ accepted: events.length });
  await app.runtime.detect();
}

describe('interventions through the local runtime (embedded: the outbox)', () => {
  let app: TestRuntime;
  const outbox = () => {
    const path = join(app.dataDir, 'interventions', 'outbox.jsonl');
    return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as InterventionMessage) : [];
  };

  beforeAll(async () => {
    app = await startTestRuntime();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("sends crisis support to the app's channel token of a watched user's crisis, once, and keeps the token out of the alert", async () => {
    await app.request('PUT', '/v1/consent/intervention-user-1', { body: WATCHED });
    const event = crisis('intervention-user-1', token('user-1'));

    await send(app, [event]);
    await send(app, [event]);

    expect(outbox()).toEqual([
      { type: 'intervention.recommended', id: recommendationId('crisis-signal', event['eventId'] as string), interventionType: 'crisis_support', urgency: 'crisis', rule: 'crisis-signal', channelToken: token('user-1'), at: event['occurredAt'] },
    ]);
    const alerts = await app.request('GET', '/v1/alerts');
    expect(alerts.body.alerts).toHaveLength(1);
    expect(JSON.stringify(alerts.body)).not.toContain(token('user-1'));
    expect(readFileSync(join(app.dataDir, 'alerts', 'outbox.jsonl'), 'utf8')).not.toContain(token('user-1'));
  });

  it('sends nothing for a user without safety-monitoring consent, for a severity no rule intervenes on, or without a token', async () => {
    await app.request('PUT', '/v1/consent/intervention-user-2', { body: NOT_WATCHED });
    await app.request('PUT', '/v1/consent/intervention-user-3', { body: WATCHED });
    await app.request('PUT', '/v1/consent/intervention-user-4', { body: WATCHED });
    const before = outbox().length;

    await send(app, [crisis('intervention-user-2', token('user-2')), crisis('intervention-user-3', token('user-3'), 'moderate'), crisis('intervention-user-4')]);

    expect(outbox()).toHaveLength(before);
    // The crisis without a token still pages: the alert does not depend on the app's channel.
    expect((await app.request('GET', '/v1/alerts')).body.alerts.map((alert: { rule: string }) => alert.rule)).toEqual(['crisis-signal', 'crisis-signal']);
  });

  it('refuses a channel token that is not one with a 400 naming the field', async () => {
    await app.request('PUT', '/v1/consent/intervention-user-5', { body: WATCHED });

    const posted = await app.request('POST', '/v1/events', { body: { events: [crisis('intervention-user-5', 'not a token')] } });

    expect(posted.body.rejected).toEqual([{ index: 0, code: 'invalid_event', message: expect.stringContaining('context.channelToken') }]);
  });
});

describe('the effectiveness of interventions through the local runtime', () => {
  const K = 2;
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("counts a recommendation the app followed with the intervention completed, and the mood change after it, once k users' are in", async () => {
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    const loop = (userId: string, completion: string) => [
      makeEvent({ userId, occurredAt: minutesAgo(40), attributes: { valence: -0.5, arousal: 0.6 } }, 'mood.reported'),
      { ...crisis(userId, token(userId)), occurredAt: minutesAgo(30) },
      makeEvent({ userId, occurredAt: minutesAgo(20), attributes: { interventionType: 'crisis_support', urgency: 'crisis', completion } }, 'intervention.delivered'),
      makeEvent({ userId, occurredAt: minutesAgo(10), attributes: { valence: 0.1, arousal: 0.4 } }, 'mood.reported'),
    ];
    const effectiveness = async () =>
      ((await app.request('GET', '/v1/interventions/effectiveness')).body.weeks as { types: { interventionType: string }[] }[]).flatMap((week) => week.types);
    for (const userId of ['followed-1', 'followed-2', 'skipped-1']) await app.request('PUT', `/v1/consent/${userId}`, { body: WATCHED });

    await send(app, loop('followed-1', 'completed'));
    // One user is fewer than k: the week's crisis support is withheld.
    expect(await effectiveness()).toEqual([{ interventionType: 'crisis_support', suppressed: true }]);

    await send(app, [...loop('followed-2', 'completed'), ...loop('skipped-1', 'skipped')]);

    expect(await effectiveness()).toEqual([
      { interventionType: 'crisis_support', users: 3, recommended: 3, sent: 3, followed: 2, followedShare: 2 / 3, moodChange: { users: 2, mean: expect.closeTo(0.6, 9) } },
    ]);
    const bad = await app.request('GET', '/v1/interventions/effectiveness?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z');
    expect([bad.status, bad.body.error.details]).toEqual([400, { parameter: 'from' }]);
  });
});

describe('interventions through the local runtime (the app’s webhook)', () => {
  const SECRET = 'app-webhook-secret-'.padEnd(40, 'z');
  let app: TestRuntime;
  let receiver: Server;
  const received: { message: InterventionMessage; signed: boolean }[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({ message: JSON.parse(body) as InterventionMessage, signed: verifyInterventionSignature(body, String(request.headers[INTERVENTION_SIGNATURE_HEADER]), SECRET, new Date()) });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    app = await startTestRuntime({ INTERVENTION_WEBHOOK_URL: `http://127.0.0.1:${port}/interventions`, INTERVENTION_WEBHOOK_SECRET: SECRET });
  });
  afterAll(async () => {
    await app?.stop();
    receiver?.close();
  });

  it('posts the recommendation signed to the webhook, and a check-in on a PHQ-9 rise of 5', async () => {
    await app.request('PUT', '/v1/consent/webhook-user-1', { body: WATCHED });
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const phq9 = (score: number, minutesAgo: number) => {
      const items = Array.from({ length: 9 }, (_, index) => (index === 8 ? 0 : Math.min(3, Math.max(0, score - 3 * index))));
      return makeEvent({ userId: 'webhook-user-1', occurredAt: at(minutesAgo), attributes: { instrument: 'PHQ-9', score, items }, context: { channelToken: token('webhook') } }, 'assessment.completed');
    };

    await send(app, [crisis('webhook-user-1', token('webhook'))]);
    await send(app, [phq9(6, 30), phq9(12, 1)]);

    await waitFor(async () => received.length, (count) => count >= 2);
    expect(received.map(({ message, signed }) => [message.rule, message.interventionType, message.urgency, message.channelToken, signed])).toEqual([
      ['crisis-signal', 'crisis_support', 'crisis', token('webhook'), true],
      ['phq9-rise', 'check_in', 'elevated', token('webhook'), true],
    ]);
  });
});
