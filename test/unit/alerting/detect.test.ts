import { randomUUID } from 'node:crypto';
import type { Transition } from '../../../functions/domain/alerting/model';
import { LIVE_HORIZON_MS } from '../../../functions/domain/alerting/signals';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { makeDetect, type Detect } from '../../../functions/use-cases/detect';
import { makeRuleEngine, type RuleEngine } from '../../../functions/use-cases/rule-engine';
import { pgliteStores, steppedClock, type AlertStores } from '../../support/alert-rules';

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SUBJECT = 'd'.repeat(64);

type Timing = { readonly occurredAt: number; readonly receivedAt: number };

function stored(timing: Timing, event: Pick<StoredEvent, 'type' | 'attributes'>): StoredEvent {
  return {
    v: 1,
    eventId: randomUUID(),
    occurredAt: new Date(timing.occurredAt).toISOString(),
    receivedAt: new Date(timing.receivedAt).toISOString(),
    subject: SUBJECT,
    session: 'e'.repeat(64),
    context: {},
    safety: true,
    ...event,
  } as StoredEvent;
}

const crisis = (timing: Timing) => stored(timing, { type: 'crisis.signal', attributes: { severity: 'imminent', source: 'self_report' } });
const phq9 = (timing: Timing, item9: number) =>
  stored(timing, { type: 'assessment.completed', attributes: { instrument: 'PHQ-9', score: 8 + item9, items: [1, 1, 1, 1, 1, 1, 1, 1, item9] } });
/** Sent `lateBy` after it happened, received at `receivedAt`. */
const late = (lateBy: number, receivedAt: number): Timing => ({ occurredAt: receivedAt - lateBy, receivedAt });

describe('detect: history is not live', () => {
  const pglite = pgliteStores();
  let stores: AlertStores;
  let clock: ReturnType<typeof steppedClock>;
  let engine: RuleEngine;
  let applied: Transition[];
  let detect: Detect;

  beforeEach(async () => {
    stores = await pglite.open();
    clock = steppedClock(T0);
    engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock });
    applied = [];
    detect = makeDetect({ rules: engine, alerts: { apply: async (transitions) => void applied.push(...transitions) } });
  });
  afterEach(() => stores.close());
  afterAll(() => pglite.closeAll());

  const fired = () => applied.map((transition) => `${transition.rule.id} ${transition.state}`);

  it('raises nothing for a crisis and an item 9 that arrive days after they happened, and counts their signals as history', async () => {
    const result = await detect([crisis(late(10 * DAY, T0)), phq9(late(3 * DAY, T0), 2)]);

    expect(result).toEqual({ watched: 2, signals: 0, history: 3, transitions: 0, interventions: 0 });
    expect(applied).toEqual([]);
  });

  it('pages a live crisis of a user whose history held a crisis: history leaves the threshold rule nothing to swallow it with', async () => {
    await detect([crisis(late(10 * DAY, T0))]);
    clock.advance(HOUR);

    const result = await detect([crisis(late(60_000, T0 + HOUR))]);

    expect(result).toMatchObject({ signals: 1, history: 0, transitions: 1 });
    expect(fired()).toEqual(['crisis-signal firing']);
    expect(applied[0]?.at).toEqual(new Date(T0 + HOUR - 60_000));
  });

  it('pages a live PHQ-9 item 9 above 0 after a history of item 9 above 0 in the same batch', async () => {
    const result = await detect([phq9(late(14 * DAY, T0), 1), phq9(late(7 * DAY, T0), 2), phq9(late(5 * 60_000, T0), 1)]);

    expect(result).toMatchObject({ signals: 2, history: 4 });
    expect(fired()).toEqual(['phq9-item9 firing']);
  });

  it('pages a crisis from a phone that was offline for a night, up to the horizon, and not past it', async () => {
    const night = await detect([crisis(late(14 * HOUR, T0))]);
    const atHorizon = await detect([{ ...crisis(late(LIVE_HORIZON_MS, T0)), subject: 'f'.repeat(64) }]);
    const pastIt = await detect([{ ...crisis(late(LIVE_HORIZON_MS + 60_000, T0)), subject: '0'.repeat(64) }]);

    expect([night.transitions, atHorizon.transitions, pastIt.transitions]).toEqual([1, 1, 0]);
    expect(pastIt.history).toBe(1);
    expect(fired()).toEqual(['crisis-signal firing', 'crisis-signal firing']);
  });

  it('flags no one at risk from history: no at-risk-no-session warning on the tick 8 days later', async () => {
    await detect([crisis(late(2 * DAY, T0))]);
    clock.advance(8 * DAY);

    expect(await engine.tick()).toEqual([]);
  });

  it('leaves out events of users without safety-monitoring consent, live or not', async () => {
    const { safety: _safety, ...unwatched } = crisis(late(60_000, T0));

    const result = await detect([unwatched]);

    expect(result).toEqual({ watched: 0, signals: 0, history: 0, transitions: 0, interventions: 0 });
  });

  it('gives the interventions the channel token of the live event that fired, beside the alert, and no token of history', async () => {
    const asked: { transitions: string[]; tokens: [string, string][] }[] = [];
    const withInterventions = makeDetect({
      rules: engine,
      alerts: { apply: async (transitions) => void applied.push(...transitions) },
      recommend: async (transitions, tokens) => (asked.push({ transitions: transitions.map((transition) => `${transition.rule.id} ${transition.eventId}`), tokens: [...tokens] }), 1),
    });
    const old = { ...crisis(late(10 * DAY, T0)), channelToken: 'history-token-0123456789' };
    const live = { ...crisis(late(60_000, T0)), channelToken: 'live-token-0123456789abc' };

    const result = await withInterventions([old, live]);

    expect(result).toMatchObject({ transitions: 1, interventions: 1 });
    expect(fired()).toEqual(['crisis-signal firing']);
    expect(asked).toEqual([{ transitions: [`crisis-signal ${live.eventId}`], tokens: [[live.eventId, 'live-token-0123456789abc']] }]);
  });

  it('fails the batch when the interventions fail, after the alerts are applied', async () => {
    const failing = makeDetect({
      rules: engine,
      alerts: { apply: async (transitions) => void applied.push(...transitions) },
      recommend: async () => {
        throw new Error('the interventions store did not answer');
      },
    });

    await expect(failing([crisis(late(60_000, T0))])).rejects.toThrow('the interventions store did not answer');
    expect(fired()).toEqual(['crisis-signal firing']);
  });

  it("gives the follow-ups the watched users' events after the batch's recommendations are kept, and also when nothing fires", async () => {
    const steps: string[] = [];
    const followed = makeDetect({
      rules: engine,
      alerts: { apply: async (transitions) => void applied.push(...transitions) },
      recommend: async () => (steps.push('recommended'), 1),
      followUp: async (events) => void steps.push(`followed up ${events.length}`),
    });
    const { safety: _safety, ...unwatched } = crisis(late(60_000, T0));

    await followed([crisis(late(60_000, T0)), unwatched]);
    await followed([{ ...stored(late(60_000, T0), { type: 'crisis.signal', attributes: { severity: 'low', source: 'self_report' } }), subject: 'f'.repeat(64) }]);

    expect(steps).toEqual(['recommended', 'followed up 1', 'followed up 1']);
  });
});
