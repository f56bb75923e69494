import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import type { Signal, Subject } from '../../../functions/domain/alerting/model';
import { DEFAULT_RULES } from '../../../functions/domain/alerting/rules';
import { makeAlertRulesAdmin, makeRuleEngine } from '../../../functions/use-cases/rule-engine';
import { pgliteStores, steppedClock, type AlertStores } from '../../support/alert-rules';

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const SECOND = 1_000;
const DAY = 86_400_000;
const user: Subject = { kind: 'user', id: 'c'.repeat(64) };
const routing = { channels: ['dashboard'], repeatIntervalSec: 3600 };
const signal = (name: string, value: number, atMs: number): Signal => ({ name, subject: user, value, at: new Date(atMs), labels: {}, eventId: randomUUID() });
const lowMood = (extra: Record<string, unknown> = {}) => ({
  id: 'low-mood',
  kind: 'threshold',
  description: 'very low mood',
  severity: 'warning',
  routing,
  subject: 'user',
  signal: 'mood.valence',
  op: '<',
  value: -0.5,
  ...extra,
});
const states = (transitions: readonly { rule: { id: string }; state: string }[]) => transitions.map((transition) => `${transition.rule.id} ${transition.state}`);

describe('rule engine', () => {
  const pglite = pgliteStores();
  let stores: AlertStores;
  beforeEach(async () => {
    stores = await pglite.open();
  });
  afterEach(() => stores.close());
  afterAll(() => pglite.closeAll());

  it('takes a replaced rule into account once the cache time has passed, without a restart', async () => {
    const clock = steppedClock(T0);
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock, cacheMs: 5 * SECOND });
    const admin = makeAlertRulesAdmin({ rules: stores.rules });
    expect(await engine.observe([signal('mood.valence', -0.9, T0)])).toEqual([]);

    await admin.putRules({ rules: [lowMood()] }, 'admin-1');
    clock.advance(4 * SECOND);
    const cached = await engine.observe([signal('mood.valence', -0.9, T0 + 4 * SECOND)]);
    clock.advance(SECOND);
    const reread = await engine.observe([signal('mood.valence', -0.9, T0 + 5 * SECOND)]);

    expect(cached).toEqual([]);
    expect(states(reread)).toEqual(['low-mood firing']);
  });

  it('fires the default operations rules on an anomalous point of their series, and resolves once normal for ten minutes', async () => {
    const clock = steppedClock(T0);
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock });
    const series = (name: string, labels: Record<string, string>, atMs: number, anomalous: boolean): Signal => ({
      name,
      subject: { kind: 'series', id: `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}}` },
      value: anomalous ? 40 : 2,
      at: new Date(atMs),
      labels,
      anomaly: { anomalous, score: anomalous ? 9 : 0.5, expected: 2, direction: anomalous ? 'spike' : 'none', detector: 'robust_z' },
    });

    const spikes = await engine.observe([series('events.per_minute', { type: 'crisis.signal' }, T0, true), series('events.per_minute', { type: 'mood.reported' }, T0, true), series('ingest.errors_per_minute', {}, T0, true)]);
    const calm = await engine.observe([series('events.per_minute', { type: 'crisis.signal' }, T0 + 60_000, false), series('ingest.errors_per_minute', {}, T0 + 60_000, false)]);

    // A relapse within the ten minutes is the same alert.
    const relapse = await engine.observe([series('ingest.errors_per_minute', {}, T0 + 120_000, true), series('ingest.errors_per_minute', {}, T0 + 180_000, false)]);
    clock.advance(659_000);
    const early = await engine.tick();
    clock.advance(1_000);
    const quiet = await engine.tick();
    clock.advance(120_000);
    const later = await engine.tick();

    expect(states(spikes).sort()).toEqual(['crisis-signals-surge firing', 'ingest-errors-surge firing']);
    expect([calm, relapse, early]).toEqual([[], [], []]);
    expect(states(quiet)).toEqual(['crisis-signals-surge resolved']);
    expect(states(later)).toEqual(['ingest-errors-surge resolved']);
  });

  it('keeps no condition for a threshold that never held, and keeps one from the moment it does', async () => {
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock: steppedClock(T0) });

    await engine.observe([signal('emotional_state.crisis', 0, T0)]);
    const calm = await stores.conditions.get('emotional-state-crisis', user);
    const fired = await engine.observe([signal('emotional_state.crisis', 1, T0 + SECOND)]);
    const resolved = await engine.observe([signal('emotional_state.crisis', 0, T0 + 2 * SECOND)]);

    expect(calm.version).toBe(0);
    expect(states(fired)).toEqual(['emotional-state-crisis firing']);
    expect(states(resolved)).toEqual(['emotional-state-crisis resolved']);
    expect((await stores.conditions.get('emotional-state-crisis', user)).version).toBeGreaterThan(0);
  });

  it('answers the rules in force, and refuses a bad document naming the field', async () => {
    const admin = makeAlertRulesAdmin({ rules: stores.rules });

    await expect(admin.putRules({ rules: [lowMood({ op: 'lt' })] }, 'admin-1')).rejects.toThrow(ZodError);
    await expect(admin.putRules({ rules: [lowMood({ op: 'lt' })] }, 'admin-1')).rejects.toMatchObject({ issues: [expect.objectContaining({ path: ['rules', 0, 'op'] })] });
    expect(await admin.getRules()).toEqual({ rules: DEFAULT_RULES });
    expect((await admin.putRules({ rules: [lowMood()] }, 'admin-1')).rules.map((rule) => rule.id)).toEqual([...DEFAULT_RULES.map((rule) => rule.id), 'low-mood']);
  });

  it('flags a user at risk on a crisis and, on the tick 7 days later with no session, fires the absence rule', async () => {
    const clock = steppedClock(T0);
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock });

    expect(states(await engine.observe([signal('crisis.severity', 4, T0)]))).toEqual(['crisis-signal firing']);
    clock.advance(7 * DAY - SECOND);
    expect(await engine.tick()).toEqual([]);
    clock.advance(SECOND);
    const fired = await engine.tick();
    clock.advance(DAY);
    const quiet = await engine.tick();
    const back = await engine.observe([signal('session.started', 1, T0 + 8 * DAY)]);

    expect(fired).toMatchObject([{ state: 'firing', rule: { id: 'at-risk-no-session', severity: 'warning' }, subject: user }]);
    expect(quiet).toEqual([]);
    expect(states(back)).toEqual(['at-risk-no-session resolved']);
  });

  it('fires a rule with forSec on the tick once the condition has held long enough, and skips a disabled rule', async () => {
    const clock = steppedClock(T0);
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock });
    await makeAlertRulesAdmin({ rules: stores.rules }).putRules({ rules: [lowMood({ forSec: 600 }), { ...DEFAULT_RULES[0]!, enabled: false }] }, 'admin-1');

    expect(await engine.observe([signal('mood.valence', -0.9, T0), signal('crisis.severity', 4, T0)])).toEqual([]);
    clock.advance(599 * SECOND);
    expect(await engine.tick()).toEqual([]);
    clock.advance(SECOND);
    expect(states(await engine.tick())).toEqual(['low-mood firing']);
  });

  it('keeps an alert whose condition clears and holds again within clearForSec, and resolves it on the tick once clear for that long, dated when it cleared', async () => {
    const clock = steppedClock(T0);
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock });
    await makeAlertRulesAdmin({ rules: stores.rules }).putRules({ rules: [lowMood({ clearForSec: 600 })] }, 'admin-1');

    // Fires, clears, holds again after 5 minutes: one alert, no resolution, no second firing.
    expect(states(await engine.observe([signal('mood.valence', -0.9, T0)]))).toEqual(['low-mood firing']);
    expect(await engine.observe([signal('mood.valence', 0.2, T0 + 60 * SECOND)])).toEqual([]);
    clock.advance(300 * SECOND);
    expect(await engine.tick()).toEqual([]);
    expect(await engine.observe([signal('mood.valence', -0.8, T0 + 360 * SECOND)])).toEqual([]);

    // Clear again from 7 minutes: still open a second short of 10 minutes later, resolved at 10.
    expect(await engine.observe([signal('mood.valence', 0.3, T0 + 420 * SECOND)])).toEqual([]);
    clock.advance((420 + 599 - 300) * SECOND);
    expect(await engine.tick()).toEqual([]);
    clock.advance(SECOND);
    const resolved = await engine.tick();
    expect(states(resolved)).toEqual(['low-mood resolved']);
    expect(resolved[0]!.at).toEqual(new Date(T0 + 420 * SECOND));
    expect(await engine.tick()).toEqual([]);
  });

  it('resolves at once without clearForSec, as before flap control', async () => {
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock: steppedClock(T0) });
    await makeAlertRulesAdmin({ rules: stores.rules }).putRules({ rules: [lowMood()] }, 'admin-1');
    expect(states(await engine.observe([signal('mood.valence', -0.9, T0)]))).toEqual(['low-mood firing']);
    expect(states(await engine.observe([signal('mood.valence', 0.2, T0 + 60 * SECOND)]))).toEqual(['low-mood resolved']);
    expect(states(await engine.observe([signal('mood.valence', -0.9, T0 + 120 * SECOND)]))).toEqual(['low-mood firing']);
  });

  it('fires a composite over a condition-only rule and a default, and resolves it when one stops', async () => {
    const clock = steppedClock(T0);
    const engine = makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock });
    const composite = { id: 'low-mood-after-rise', kind: 'composite', description: 'low mood after a PHQ-9 rise', severity: 'critical', routing, subject: 'user', op: 'all', conditions: ['low-mood', 'phq9-rise'], forSec: 0 };
    await makeAlertRulesAdmin({ rules: stores.rules }).putRules({ rules: [lowMood({ notify: false }), composite] }, 'admin-1');

    const rise = await engine.observe([signal('phq9.score', 10, T0), signal('phq9.score', 16, T0 + DAY)]);
    const low = await engine.observe([signal('mood.valence', -0.9, T0 + DAY + SECOND)]);
    const better = await engine.observe([signal('mood.valence', 0.3, T0 + 2 * DAY)]);

    expect(states(rise)).toEqual(['phq9-rise firing']);
    expect(states(low)).toEqual(['low-mood-after-rise firing']);
    expect(states(better)).toEqual(['low-mood-after-rise resolved']);
  });
});
