import { jsonLogger } from '../../../functions/adapters/log';
import { interventionMessage, recommendationId, signIntervention, verifyInterventionSignature, type InterventionMessage } from '../../../functions/domain/alerting/intervention';
import type { RuleRef, Transition } from '../../../functions/domain/alerting/model';
import type { InterventionRecord, InterventionSender, InterventionStore } from '../../../functions/ports/interventions';
import { INTERVENTIONS_METRIC, makeRecommend } from '../../../functions/use-cases/interventions';

const AT = new Date('2026-12-01T09:30:00.000Z');
const USER = { kind: 'user', id: 'a'.repeat(64) } as const;
const TOKEN = 'app-session-token-0123456789abcdef';
const routing = { channels: ['dashboard'], groupBy: ['rule'], repeatIntervalSec: 3600 } as const;
const crisisRule: RuleRef = { id: 'crisis-signal', severity: 'critical', labels: {}, routing, intervene: { interventionType: 'crisis_support', urgency: 'crisis' } };
const quietRule: RuleRef = { id: 'phq9-item9', severity: 'critical', labels: {}, routing };

const firing = (rule: RuleRef, eventId: string, extra: Partial<Transition> = {}): Transition => ({ state: 'firing', rule, subject: USER, at: AT, summary: 'fired', eventId, ...extra });

class MemoryInterventions implements Pick<InterventionStore, 'record' | 'ofSubject'> {
  readonly records = new Map<string, InterventionRecord>();
  async record(intervention: InterventionRecord): Promise<boolean> {
    if (this.records.has(intervention.id)) return false;
    this.records.set(intervention.id, intervention);
    return true;
  }
  async ofSubject(subject: string) {
    return [...this.records.values()].filter((record) => record.subject === subject);
  }
}

/** Fails the first `failures` sends, then takes every message. */
function flakySender(failures: number): InterventionSender & { readonly sent: InterventionMessage[]; attempts: number } {
  const sent: InterventionMessage[] = [];
  return {
    name: 'webhook',
    sent,
    attempts: 0,
    async send(message) {
      this.attempts += 1;
      if (this.attempts <= failures) throw new Error('the webhook answered 503');
      sent.push(message);
    },
  };
}

function harness(failures = 0) {
  const store = new MemoryInterventions();
  const sender = flakySender(failures);
  const sleeps: number[] = [];
  const counts: [string, number, Readonly<Record<string, string>> | undefined][] = [];
  const lines: string[] = [];
  const recommend = makeRecommend({
    store,
    sender,
    clock: { now: () => new Date(AT.getTime() + 150) },
    sleep: async (ms) => void sleeps.push(ms),
    logger: jsonLogger('test', 'debug', (line) => lines.push(line)),
    metrics: { count: (name, value, dimensions) => void counts.push([name, value, dimensions]) },
  });
  return { store, sender, sleeps, counts, lines, recommend };
}

describe('recommending interventions', () => {
  it('sends the app the rule’s intervention to the token of the event that fired it, and keeps a record without the token', async () => {
    const { store, sender, counts, recommend } = harness();
    const eventId = '0b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b';

    expect(await recommend([firing(crisisRule, eventId)], new Map([[eventId, TOKEN]]))).toBe(1);

    expect(sender.sent).toEqual([
      { type: 'intervention.recommended', id: recommendationId('crisis-signal', eventId), interventionType: 'crisis_support', urgency: 'crisis', rule: 'crisis-signal', channelToken: TOKEN, at: AT.toISOString() },
    ]);
    const records = await store.ofSubject(`user:${USER.id}`);
    expect(records).toEqual([
      {
        id: recommendationId('crisis-signal', eventId),
        ruleId: 'crisis-signal',
        subject: `user:${USER.id}`,
        eventId,
        interventionType: 'crisis_support',
        urgency: 'crisis',
        recommendedAt: AT,
        status: 'sent',
        sender: 'webhook',
        attempts: 1,
        sentAt: new Date(AT.getTime() + 150),
      },
    ]);
    expect(JSON.stringify(records)).not.toContain(TOKEN);
    expect(counts).toEqual([[INTERVENTIONS_METRIC, 1, { status: 'sent' }]]);
  });

  it('records a recommendation whose event carried no token as having no channel, and sends nothing', async () => {
    const { store, sender, counts, recommend } = harness();

    expect(await recommend([firing(crisisRule, '1b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b')], new Map())).toBe(0);

    expect(sender.attempts).toBe(0);
    expect((await store.ofSubject(`user:${USER.id}`)).map((record) => [record.status, record.attempts, record.sender])).toEqual([['no_channel', 0, undefined]]);
    expect(counts).toEqual([[INTERVENTIONS_METRIC, 1, { status: 'no_channel' }]]);
  });

  it('retries a failed send twice, quickly, then records it failed and logs why without the message', async () => {
    const eventId = '2b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b';
    const recovered = harness(2);
    expect(await recovered.recommend([firing(crisisRule, eventId)], new Map([[eventId, TOKEN]]))).toBe(1);
    expect(recovered.sleeps).toEqual([200, 400]);
    expect((await recovered.store.ofSubject(`user:${USER.id}`))[0]).toMatchObject({ status: 'sent', attempts: 3 });

    const failed = harness(3);
    expect(await failed.recommend([firing(crisisRule, eventId)], new Map([[eventId, TOKEN]]))).toBe(0);
    expect((await failed.store.ofSubject(`user:${USER.id}`))[0]).toMatchObject({ status: 'failed', attempts: 3, sender: 'webhook' });
    expect(failed.counts).toEqual([[INTERVENTIONS_METRIC, 1, { status: 'failed' }]]);
    expect(failed.lines.join('\n')).toContain('intervention not sent');
    expect(failed.lines.join('\n')).not.toContain(TOKEN);
  });

  it('leaves alone resolutions, rules without the action, series and transitions of no event', async () => {
    const { sender, store, recommend } = harness();
    const eventId = '3b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b';
    const tokens = new Map([[eventId, TOKEN]]);
    const transitions: Transition[] = [
      firing(crisisRule, eventId, { state: 'resolved' }),
      firing(quietRule, eventId),
      firing(crisisRule, eventId, { subject: { kind: 'series', id: 'events.per_minute' } }),
      { state: 'firing', rule: crisisRule, subject: USER, at: AT, summary: 'still firing' },
    ];

    expect(await recommend(transitions, tokens)).toBe(0);
    expect(sender.attempts).toBe(0);
    expect(store.records.size).toBe(0);
  });

  it('names a recommendation by its rule and event, so a batch retried repeats the same id and records once', async () => {
    const { store, sender, recommend } = harness();
    const eventId = '4b9f3c1e-4a5d-4e7f-8a9b-0c1d2e3f4a5b';
    await recommend([firing(crisisRule, eventId)], new Map([[eventId, TOKEN]]));
    await recommend([firing(crisisRule, eventId)], new Map([[eventId, TOKEN]]));

    expect(sender.sent.map((message) => message.id)).toEqual([recommendationId('crisis-signal', eventId), recommendationId('crisis-signal', eventId)]);
    expect(store.records.size).toBe(1);
    expect(recommendationId('crisis-signal', eventId)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(recommendationId('phq9-rise', eventId)).not.toBe(recommendationId('crisis-signal', eventId));
  });
});

describe('the webhook signature', () => {
  const secret = 's'.repeat(32);
  const body = JSON.stringify(interventionMessage({ id: 'crisis-signal', intervene: { interventionType: 'crisis_support', urgency: 'crisis' } }, { eventId: 'e', at: AT }, TOKEN));

  it('verifies with the secret, within five minutes, for the body signed', () => {
    const header = signIntervention(body, secret, AT);

    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyInterventionSignature(body, header, secret, new Date(AT.getTime() + 299_000))).toBe(true);
    expect(verifyInterventionSignature(body, header, secret, new Date(AT.getTime() + 301_000))).toBe(false);
    expect(verifyInterventionSignature(body.replace('crisis_support', 'grounding'), header, secret, AT)).toBe(false);
    expect(verifyInterventionSignature(body, header, 't'.repeat(32), AT)).toBe(false);
    expect(verifyInterventionSignature(body, 'v1=abc', secret, AT)).toBe(false);
  });
});
