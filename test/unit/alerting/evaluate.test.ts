import { randomUUID } from 'node:crypto';
import { INITIAL_CONDITION, observeComposite, observeSignal, observeTime, watches, type ConditionState, type Step } from '../../../functions/domain/alerting/evaluate';
import type { Signal, Subject } from '../../../functions/domain/alerting/model';
import { alertRuleSchema, DEFAULT_RULES, type CompositeRule, type SignalRule } from '../../../functions/domain/alerting/rules';
import { signalsOfEvent } from '../../../functions/domain/alerting/signals';
import type { EventType, StoredEvent } from '../../../functions/domain/events/schema';

const MINUTE = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const user: Subject = { kind: 'user', id: 'a'.repeat(64) };
const series: Subject = { kind: 'series', id: 'events.per_minute:choice.made' };
const base = { description: 'test', severity: 'warning', routing: { channels: ['dashboard'], repeatIntervalSec: 3600 } };

const signalRule = (input: Record<string, unknown>): SignalRule => alertRuleSchema.parse({ ...base, id: 'r', subject: 'user', ...input }) as SignalRule;
const lowMood = (extra: Record<string, unknown> = {}) => signalRule({ kind: 'threshold', signal: 'mood.valence', op: '<', value: -0.5, ...extra });
const signal = (value: number, atMs: number, extra: Partial<Signal> = {}): Signal => ({ name: 'mood.valence', subject: user, value, at: new Date(atMs), labels: {}, eventId: randomUUID(), ...extra });

/** Folds the signals through the rule: the final state and the transitions' states in order. */
function run(rule: SignalRule, signals: readonly Signal[], from?: ConditionState): { state: ConditionState; transitions: string[]; steps: Step[] } {
  const steps: Step[] = [];
  let state = from;
  for (const next of signals) {
    const step = observeSignal(rule, state, next);
    steps.push(step);
    state = step.state;
  }
  return { state: state ?? INITIAL_CONDITION, transitions: steps.flatMap((step) => (step.transition ? [step.transition.state] : [])), steps };
}

describe('threshold', () => {
  it('fires when the value crosses and resolves when a later value does not', () => {
    const { transitions, steps } = run(lowMood(), [signal(0.2, T0), signal(-0.7, T0 + MINUTE), signal(-0.9, T0 + 2 * MINUTE), signal(0.1, T0 + 3 * MINUTE)]);

    expect(transitions).toEqual(['firing', 'resolved']);
    expect(steps[1]!.transition).toMatchObject({ rule: { id: 'r', severity: 'warning' }, subject: user, value: -0.7, at: new Date(T0 + MINUTE) });
    expect(steps[1]!.transition!.summary).toBe(`r: mood.valence -0.7 < -0.5 for user:${user.id}`);
  });

  it('watches only its signal, subject kind and matched labels', () => {
    const rule = signalRule({ kind: 'threshold', signal: 'crisis.severity', op: '>=', value: 3, match: { source: 'clinician' } });

    expect(watches(rule, signal(4, T0, { name: 'crisis.severity', labels: { source: 'clinician' } }))).toBe(true);
    expect(watches(rule, signal(4, T0, { name: 'crisis.severity', labels: { source: 'classifier' } }))).toBe(false);
    expect(watches(rule, signal(4, T0, { name: 'crisis.severity', labels: { source: 'clinician' }, subject: series }))).toBe(false);
  });

  it('with forSec fires only once the condition has held that long, on a signal or on the tick', () => {
    const rule = lowMood({ forSec: 600 });
    const held = run(rule, [signal(-0.8, T0), signal(-0.9, T0 + 5 * MINUTE)]);

    expect(held.transitions).toEqual([]);
    expect(observeTime(rule, held.state, user, T0 + 9 * MINUTE).transition).toBeUndefined();
    expect(observeTime(rule, held.state, user, T0 + 10 * MINUTE).transition?.state).toBe('firing');
    expect(run(rule, [signal(-0.7, T0 + 11 * MINUTE)], held.state).transitions).toEqual(['firing']);
    expect(run(rule, [signal(0, T0 + 7 * MINUTE), signal(-0.9, T0 + 12 * MINUTE)], held.state).transitions).toEqual([]);
  });

  it('with notify false keeps the condition but makes no transition', () => {
    const { state, transitions } = run(lowMood({ notify: false }), [signal(-0.9, T0)]);

    expect(transitions).toEqual([]);
    expect(state.active).toBe(true);
  });
});

describe('duplicates and order', () => {
  it('counts a redelivered event once', () => {
    const crisis = signal(-0.9, T0);
    const first = run(lowMood(), [crisis]);
    const again = observeSignal(lowMood(), first.state, crisis);

    expect(first.transitions).toEqual(['firing']);
    expect(again).toEqual({ state: first.state });
  });

  it('does not let an older signal flap a firing alert', () => {
    const { transitions, state } = run(lowMood(), [signal(-0.9, T0 + MINUTE), signal(0.5, T0), signal(-0.9, T0 + 2 * MINUTE)]);

    expect(transitions).toEqual(['firing']);
    expect(state.lastAt).toBe(T0 + 2 * MINUTE);
  });

  it('counts a series point at a time already seen once', () => {
    const rule = signalRule({ kind: 'threshold', subject: 'series', signal: 'ingest.errors', op: '>', value: 10 });
    const point = (value: number) => signal(value, T0, { name: 'ingest.errors', subject: series, eventId: undefined });

    expect(run(rule, [point(50), point(0)]).transitions).toEqual(['firing']);
  });
});

describe('rate_of_change', () => {
  const rise = signalRule({ kind: 'rate_of_change', signal: 'phq9.score', op: '>=', value: 5 });
  const score = (value: number, n: number) => signal(value, T0 + n * DAY, { name: 'phq9.score' });

  it('compares each value with the one before and resolves when the next change is smaller', () => {
    const { transitions, steps } = run(rise, [score(12, 0), score(16, 1), score(21, 2), score(22, 3)]);

    expect(transitions).toEqual(['firing', 'resolved']);
    expect(steps[2]!.transition).toMatchObject({ value: 5 });
  });

  it('needs a previous value', () => {
    expect(run(rise, [score(27, 0)]).transitions).toEqual([]);
  });
});

describe('absence', () => {
  const quiet = signalRule({ kind: 'absence', signal: 'session.started', forSec: 3 * 86_400, scope: 'seen' });
  const atRiskQuiet = signalRule({ kind: 'absence', signal: 'session.started', forSec: 3 * 86_400, scope: 'at_risk' });
  const session = (atMs: number) => signal(1, atMs, { name: 'session.started' });

  it('fires on the tick once a seen subject has been quiet for forSec and resolves when it shows up', () => {
    const seen = run(quiet, [session(T0)]).state;
    const early = observeTime(quiet, seen, user, T0 + 3 * DAY - 1);
    const late = observeTime(quiet, seen, user, T0 + 3 * DAY);

    expect(early.transition).toBeUndefined();
    expect(late.transition).toMatchObject({ state: 'firing', summary: `r: no session.started for 72 h for user:${user.id}` });
    expect(observeTime(quiet, late.state, user, T0 + 4 * DAY).transition).toBeUndefined();
    expect(run(quiet, [session(T0 + 5 * DAY)], late.state).transitions).toEqual(['resolved']);
  });

  it('dates the resolution no earlier than the firing when the ending session arrives late, with an earlier occurredAt', () => {
    const fired = observeTime(quiet, run(quiet, [session(T0)]).state, user, T0 + 4 * DAY);

    const resolved = observeSignal(quiet, fired.state, session(T0 + 3 * DAY + 1));

    expect([fired.transition?.at, resolved.transition?.state, resolved.transition?.at]).toEqual([new Date(T0 + 4 * DAY), 'resolved', new Date(T0 + 4 * DAY)]);
  });

  it('with at_risk scope watches only flagged users, counting from the flag, and resolves when the flag runs out', () => {
    const flag = { since: T0, until: T0 + 30 * DAY };

    expect(observeTime(atRiskQuiet, undefined, user, T0 + 10 * DAY).transition).toBeUndefined();
    expect(observeTime(atRiskQuiet, undefined, user, T0 + 3 * DAY - 1, flag).transition).toBeUndefined();
    const fired = observeTime(atRiskQuiet, undefined, user, T0 + 3 * DAY, flag);
    expect(fired.transition?.state).toBe('firing');
    expect(observeTime(atRiskQuiet, fired.state, user, T0 + 31 * DAY).transition?.state).toBe('resolved');
  });

  it('with at_risk scope counts from the last session when there was one', () => {
    const seen = run(atRiskQuiet, [session(T0 + DAY)]).state;
    const flag = { since: T0, until: T0 + 30 * DAY };

    expect(observeTime(atRiskQuiet, seen, user, T0 + 3 * DAY, flag).transition).toBeUndefined();
    expect(observeTime(atRiskQuiet, seen, user, T0 + 4 * DAY, flag).transition?.state).toBe('firing');
  });
});

describe('anomaly', () => {
  const spikes = signalRule({ kind: 'anomaly', subject: 'series', signal: 'events.per_minute', detector: 'robust_z', direction: 'spike' });
  const point = (n: number, anomaly?: Signal['anomaly']) =>
    signal(100, T0 + n * MINUTE, { name: 'events.per_minute', subject: series, eventId: undefined, ...(anomaly ? { anomaly } : {}) });
  const verdict = (anomalous: boolean, direction: 'spike' | 'dip' | 'none', detector: 'robust_z' | 'seasonal' = 'robust_z') => ({ anomalous, direction, detector, score: anomalous ? 9 : 1, expected: 50 });

  it('fires on an anomalous point of its detector and direction and resolves on the next normal one', () => {
    expect(run(spikes, [point(0, verdict(false, 'none')), point(1, verdict(true, 'spike')), point(2), point(3, verdict(false, 'none'))]).transitions).toEqual(['firing', 'resolved']);
  });

  it('ignores the other direction and the other detector', () => {
    expect(run(spikes, [point(0, verdict(true, 'dip')), point(1, verdict(true, 'spike', 'seasonal'))]).transitions).toEqual([]);
  });
});

describe('composite', () => {
  const composite = (op: 'all' | 'any', forSec = 0) =>
    alertRuleSchema.parse({ ...base, id: 'c', kind: 'composite', subject: 'user', op, conditions: ['a', 'b'], forSec }) as CompositeRule;

  it('all: fires when every condition is met and resolves when one stops', () => {
    const rule = composite('all');

    expect(observeComposite(rule, undefined, user, [true, false], T0).transition).toBeUndefined();
    const fired = observeComposite(rule, undefined, user, [true, true], T0);
    expect(fired.transition).toMatchObject({ state: 'firing', summary: `c: all of a, b for user:${user.id}` });
    expect(observeComposite(rule, fired.state, user, [true, true], T0 + MINUTE).transition).toBeUndefined();
    expect(observeComposite(rule, fired.state, user, [false, true], T0 + MINUTE).transition?.state).toBe('resolved');
  });

  it('any: fires on one condition, held for forSec', () => {
    const rule = composite('any', 300);
    const pending = observeComposite(rule, undefined, user, [false, true], T0);

    expect(pending.transition).toBeUndefined();
    expect(observeComposite(rule, pending.state, user, [true, false], T0 + 4 * MINUTE).transition).toBeUndefined();
    expect(observeComposite(rule, pending.state, user, [true, false], T0 + 5 * MINUTE).transition?.state).toBe('firing');
    expect(observeComposite(rule, pending.state, user, [false, false], T0 + 5 * MINUTE).transition).toBeUndefined();
  });
});

describe('the default safety rules', () => {
  const event = (type: EventType, attributes: Record<string, unknown>, atMs = T0): StoredEvent =>
    ({ v: 1, eventId: randomUUID(), type, occurredAt: new Date(atMs).toISOString(), receivedAt: new Date(atMs).toISOString(), subject: user.id, session: 'b'.repeat(64), attributes, context: {} }) as StoredEvent;
  const phq9 = (items: number[], atMs = T0) => event('assessment.completed', { instrument: 'PHQ-9', score: items.reduce((a, b) => a + b, 0), items }, atMs);

  /** The transitions of the default rule over the events' signals. */
  function fires(ruleId: string, events: StoredEvent[]): string[] {
    const rule = DEFAULT_RULES.find((candidate) => candidate.id === ruleId) as SignalRule;
    return run(rule, events.flatMap(signalsOfEvent).filter((next) => watches(rule, next))).transitions;
  }

  it.each<[string, StoredEvent[], StoredEvent[]]>([
    ['crisis-signal', [event('crisis.signal', { severity: 'high', source: 'classifier' })], [event('crisis.signal', { severity: 'moderate', source: 'self_report' })]],
    ['crisis-signal', [event('crisis.signal', { severity: 'imminent', source: 'clinician' })], [event('crisis.signal', { severity: 'low', source: 'self_report' })]],
    [
      'emotional-state-crisis',
      [event('choice.made', { scenarioId: 's', sceneId: 'x', choiceId: 'y', choiceType: 'narrative', therapeuticValue: 0.5, responseTimeMs: 900, emotionalStateAfter: 'crisis' })],
      [event('choice.made', { scenarioId: 's', sceneId: 'x', choiceId: 'y', choiceType: 'narrative', therapeuticValue: 0.5, responseTimeMs: 900, emotionalStateAfter: 'distressed' })],
    ],
    ['phq9-item9', [phq9([1, 1, 1, 1, 1, 1, 1, 1, 1])], [phq9([3, 3, 3, 3, 3, 3, 3, 3, 0])]],
    ['phq9-rise', [phq9([1, 1, 1, 1, 1, 0, 0, 0, 0]), phq9([2, 2, 2, 2, 2, 0, 0, 0, 0], T0 + DAY)], [phq9([1, 1, 1, 1, 1, 0, 0, 0, 0]), phq9([2, 2, 2, 2, 1, 0, 0, 0, 0], T0 + DAY)]],
  ])('%s fires on the trigger and not on a near miss', (ruleId, trigger, nearMiss) => {
    expect(fires(ruleId, trigger)).toEqual(['firing']);
    expect(fires(ruleId, nearMiss)).toEqual([]);
  });

  it('flag a user at risk for 30 days when they fire', () => {
    const rule = DEFAULT_RULES.find((candidate) => candidate.id === 'crisis-signal') as SignalRule;
    const [crisis] = signalsOfEvent(event('crisis.signal', { severity: 'high', source: 'classifier' }));

    expect(observeSignal(rule, undefined, crisis!).state.atRisk).toEqual({ since: T0, until: T0 + 30 * DAY });
  });

  it('at-risk-no-session fires for a flagged user with no session for 7 days, and a session.started resolves it', () => {
    const rule = DEFAULT_RULES.find((candidate) => candidate.id === 'at-risk-no-session') as SignalRule;
    const flag = { since: T0, until: T0 + 30 * DAY };
    const fired = observeTime(rule, undefined, user, T0 + 7 * DAY, flag);
    const [started] = signalsOfEvent(event('session.started', { scenarioId: 'forest-path' }, T0 + 8 * DAY));

    expect(observeTime(rule, undefined, user, T0 + 7 * DAY - MINUTE, flag).transition).toBeUndefined();
    expect(fired.transition).toMatchObject({ state: 'firing', rule: { severity: 'warning' } });
    expect(watches(rule, started!)).toBe(true);
    expect(observeSignal(rule, fired.state, started!).transition?.state).toBe('resolved');
  });
});

describe('signalsOfEvent', () => {
  it('turns events into signals of the user, at the time they happened, with the event id and when ingest received it', () => {
    const event = { v: 1, eventId: randomUUID(), type: 'mood.reported', occurredAt: new Date(T0).toISOString(), receivedAt: new Date(T0 + 5_000).toISOString(), subject: user.id, session: 's', attributes: { valence: -0.4, arousal: 0.2 }, context: {} } as StoredEvent;

    expect(signalsOfEvent(event)).toEqual([{ name: 'mood.valence', subject: user, value: -0.4, at: new Date(T0), labels: {}, eventId: event.eventId, receivedAt: new Date(T0 + 5_000) }]);
  });

  it('reads GAD-7 scores and PHQ-9 scores without items, and nothing from other events', () => {
    const assessment = (attributes: Record<string, unknown>) => ({ v: 1, eventId: randomUUID(), type: 'assessment.completed', occurredAt: new Date(T0).toISOString(), receivedAt: '', subject: user.id, session: 's', attributes, context: {} }) as StoredEvent;

    expect(signalsOfEvent(assessment({ instrument: 'GAD-7', score: 12 })).map((next) => [next.name, next.value])).toEqual([['gad7.score', 12]]);
    expect(signalsOfEvent(assessment({ instrument: 'PHQ-9', score: 12 })).map((next) => [next.name, next.value])).toEqual([['phq9.score', 12]]);
    expect(signalsOfEvent(assessment({ instrument: 'WHO-5', score: 12 }))).toEqual([]);
  });
});
