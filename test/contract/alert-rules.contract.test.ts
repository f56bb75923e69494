import { randomUUID } from 'node:crypto';
import { postgresDatabase } from '../../functions/adapters/pg/database';
import { INITIAL_CONDITION, type ConditionState } from '../../functions/domain/alerting/evaluate';
import type { Signal, Subject } from '../../functions/domain/alerting/model';
import { alertRuleSchema, DEFAULT_RULES } from '../../functions/domain/alerting/rules';
import { makeRuleEngine } from '../../functions/use-cases/rule-engine';
import { migratedStores, pgliteStores, steppedClock, type AlertStores } from '../support/alert-rules';
import { describeWithServices, freshPostgresUrl } from '../support/services';

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const DAY = 86_400_000;
const userN = (n: number): Subject => ({ kind: 'user', id: n.toString(16).padStart(64, '0') });
const lowMood = alertRuleSchema.parse({
  id: 'low-mood',
  kind: 'threshold',
  description: 'very low mood',
  severity: 'warning',
  routing: { channels: ['dashboard'], repeatIntervalSec: 3600 },
  subject: 'user',
  signal: 'mood.valence',
  op: '<',
  value: -0.5,
});
const crisis = (subject: Subject, atMs: number): Signal => ({ name: 'crisis.severity', subject, value: 4, at: new Date(atMs), labels: { source: 'clinician' }, eventId: randomUUID() });
const state = (extra: Partial<ConditionState>): ConditionState => ({ ...INITIAL_CONDITION, ...extra });

function alertRulesContract(open: () => Promise<AlertStores>): void {
  let stores: AlertStores;
  beforeEach(async () => {
    stores = await open();
  });
  afterEach(async () => {
    await stores.close();
  });

  it('lists the defaults when nothing is stored, and a stored rule replaces its default in place', async () => {
    expect(await stores.rules.list()).toEqual(DEFAULT_RULES);

    const disabled = { ...DEFAULT_RULES[2]!, enabled: false };
    await stores.rules.replace([lowMood, disabled], 'admin-1');

    expect((await stores.rules.list()).map((rule) => [rule.id, rule.enabled])).toEqual([...DEFAULT_RULES.map((rule) => [rule.id, rule.id !== 'phq9-item9']), ['low-mood', true]]);
    expect((await stores.db.query('SELECT id, updated_by FROM alert_rules ORDER BY id')).rows).toEqual([
      { id: 'low-mood', updated_by: 'admin-1' },
      { id: 'phq9-item9', updated_by: 'admin-1' },
    ]);
  });

  it('replaces every stored rule: one left out is gone, a default left out comes back as shipped', async () => {
    await stores.rules.replace([lowMood, { ...DEFAULT_RULES[0]!, enabled: false }], 'admin-1');
    await stores.rules.replace([], 'admin-2');

    expect(await stores.rules.list()).toEqual(DEFAULT_RULES);
  });

  it('keeps condition states with optimistic versions', async () => {
    const subject = userN(1);
    const missing = await stores.conditions.get('low-mood', subject);
    expect(missing).toEqual({ ruleId: 'low-mood', subject, state: INITIAL_CONDITION, version: 0 });

    const firing = state({ holds: true, since: T0, active: true, lastAt: T0, lastValue: -0.9, seen: ['e1'] });
    expect(await stores.conditions.save('low-mood', subject, firing, 0)).toBe(true);
    expect(await stores.conditions.save('low-mood', subject, firing, 0)).toBe(false);
    expect(await stores.conditions.save('low-mood', subject, { ...firing, active: false }, 1)).toBe(true);
    expect(await stores.conditions.save('low-mood', subject, firing, 1)).toBe(false);
    expect(await stores.conditions.get('low-mood', subject)).toEqual({ ruleId: 'low-mood', subject, state: { ...firing, active: false }, version: 2 });
  });

  it('lists pending, active and quiet conditions, users at risk, and forgets a subject', async () => {
    await stores.conditions.save('r', userN(1), state({ holds: true, since: T0, lastAt: T0 }), 0);
    await stores.conditions.save('r', userN(2), state({ holds: true, since: T0, active: true, lastAt: T0 + DAY, atRisk: { since: T0, until: T0 + 30 * DAY } }), 0);
    await stores.conditions.save('r', userN(3), state({ lastAt: T0 + 2 * DAY }), 0);
    await stores.conditions.save('q', userN(2), state({ holds: true, active: true, since: T0, atRisk: { since: T0 + DAY, until: T0 + 40 * DAY } }), 0);
    const subjects = (rows: { subject: Subject }[]) => rows.map((row) => row.subject.id).sort();

    expect(subjects(await stores.conditions.list('r', 'pending'))).toEqual([userN(1).id]);
    expect(subjects(await stores.conditions.list('r', 'active'))).toEqual([userN(2).id]);
    expect(subjects(await stores.conditions.list('r', { quietBefore: new Date(T0 + 2 * DAY) }))).toEqual([userN(1).id]);
    expect(subjects(await stores.conditions.getMany(['r', 'q', 'x'], userN(2)))).toEqual([userN(2).id, userN(2).id]);
    expect(await stores.conditions.atRisk(new Date(T0 + 31 * DAY))).toEqual([{ subject: userN(2), since: new Date(T0 + DAY), until: new Date(T0 + 40 * DAY) }]);
    expect(await stores.conditions.atRisk(new Date(T0 + 10 * DAY))).toEqual([{ subject: userN(2), since: new Date(T0), until: new Date(T0 + 40 * DAY) }]);
    expect(await stores.conditions.eraseSubject(userN(2))).toBe(2);
    expect(await stores.conditions.atRisk(new Date(T0))).toEqual([]);
  });

  it('makes exactly one firing transition when two engines observe the same records at once', async () => {
    const clock = steppedClock(T0);
    const engines = [0, 1].map(() => makeRuleEngine({ rules: stores.rules, conditions: stores.conditions, clock }));
    const batch = Array.from({ length: 12 }, (_, n) => crisis(userN(n), T0 + n));

    const [first, second] = await Promise.all(engines.map((engine) => engine.observe(batch)));
    const again = await engines[0]!.observe(batch);

    const firing = [...first!, ...second!, ...again].filter((transition) => transition.state === 'firing');
    expect(firing.map((transition) => transition.subject.id).sort()).toEqual(batch.map((signal) => signal.subject.id).sort());
    expect(firing.every((transition) => transition.rule.id === 'crisis-signal')).toBe(true);
  });
}

describe('alert rule and condition stores on PGlite', () => {
  const pglite = pgliteStores();
  afterAll(() => pglite.closeAll());
  alertRulesContract(() => pglite.open());
});

describeWithServices(['postgres'], 'alert rule and condition stores on PostgreSQL', () => {
  alertRulesContract(async () => {
    const schema = await freshPostgresUrl();
    return migratedStores(postgresDatabase(schema.url, { max: 8 }), () => schema.drop());
  });
});
