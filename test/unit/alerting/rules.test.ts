import { ZodError } from 'zod';
import { alertRuleSchema, alertRulesDocumentSchema, DEFAULT_RULES, mergeRules, ruleRef } from '../../../functions/domain/alerting/rules';

type Input = Record<string, unknown>;
const routing = { channels: ['dashboard'], repeatIntervalSec: 3600 };
const base = { description: 'test rule', severity: 'warning', routing };

const threshold = (id: string, extra: Input = {}): Input => ({ ...base, id, kind: 'threshold', subject: 'user', signal: 'mood.valence', op: '<', value: -0.8, ...extra });
const composite = (id: string, conditions: string[], extra: Input = {}): Input => ({ ...base, id, kind: 'composite', subject: 'user', op: 'all', conditions, forSec: 600, ...extra });

/** The paths (dotted) of every issue a parse raised. */
function issuePaths(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof ZodError) return error.issues.map((issue) => issue.path.join('.'));
    throw error;
  }
  throw new Error('the parse succeeded');
}

describe('alertRuleSchema', () => {
  it.each<[string, Input, number]>([
    ['threshold', threshold('low-mood'), 0],
    ['rate_of_change', { ...base, id: 'gad7-rise', kind: 'rate_of_change', subject: 'user', signal: 'gad7.score', op: '>=', value: 4 }, 0],
    ['absence', { ...base, id: 'gone-quiet', kind: 'absence', subject: 'user', signal: 'session.started', forSec: 14 * 86_400, scope: 'seen' }, 14 * 86_400],
    ['anomaly', { ...base, id: 'ingest-errors', kind: 'anomaly', subject: 'series', signal: 'ingest.errors', detector: 'any', direction: 'spike', match: { type: 'all' } }, 0],
    ['composite', composite('low-mood-and-rise', ['low-mood', 'phq9-rise'], { op: 'any' }), 600],
  ])('accepts a %s rule and fills in the defaults', (kind, input, forSec) => {
    expect(alertRuleSchema.parse(input)).toMatchObject({ kind, forSec, enabled: true, notify: true, labels: {}, marksAtRisk: false, atRiskDays: 30, routing: { groupBy: [] } });
  });

  it.each<[string, Input, string]>([
    ['an id that is no slug', { id: 'Crisis Signal' }, 'id'],
    ['an unknown operator', { op: '=>' }, 'op'],
    ['a value that is no number', { value: 'high' }, 'value'],
    ['a bad signal name', { signal: 'PHQ 9' }, 'signal'],
    ['an unknown channel', { routing: { ...routing, channels: ['pager'] } }, 'routing.channels.0'],
    ['a repeat interval under a minute', { routing: { ...routing, repeatIntervalSec: 5 } }, 'routing.repeatIntervalSec'],
    ['a negative forSec', { forSec: -1 }, 'forSec'],
    ['a label that is no string', { labels: { team: 3 } }, 'labels.team'],
    ['marksAtRisk on series', { subject: 'series', marksAtRisk: true }, 'marksAtRisk'],
  ])('refuses %s, naming the field', (_, change, path) => {
    expect(issuePaths(() => alertRuleSchema.parse(threshold('r', change)))).toContain(path);
  });

  it('refuses a field the kind does not have', () => {
    expect(() => alertRuleSchema.parse(threshold('r', { scope: 'seen' }))).toThrow(/scope/);
  });

  it('refuses an unknown kind, an absence without forSec and an anomaly rule on users', () => {
    expect(issuePaths(() => alertRuleSchema.parse({ ...threshold('r'), kind: 'trend' }))).toContain('kind');
    expect(issuePaths(() => alertRuleSchema.parse({ ...base, id: 'a', kind: 'absence', subject: 'user', signal: 'session.started', scope: 'seen' }))).toContain('forSec');
    expect(issuePaths(() => alertRuleSchema.parse({ ...base, id: 'a', kind: 'anomaly', subject: 'user', signal: 'x', detector: 'any', direction: 'both' }))).toContain('subject');
  });
});

describe('alertRulesDocumentSchema', () => {
  it('accepts composites over their own rules and over the defaults', () => {
    const document = alertRulesDocumentSchema.parse({ rules: [threshold('low-mood'), composite('low-and-rising', ['low-mood', 'phq9-rise'])] });

    expect(document.rules.map((rule) => rule.id)).toEqual(['low-mood', 'low-and-rising']);
  });

  it('refuses a repeated id', () => {
    expect(issuePaths(() => alertRulesDocumentSchema.parse({ rules: [threshold('a'), threshold('a')] }))).toEqual(['rules.1.id']);
  });

  it('refuses a composite naming no rule, or a rule of the other subject kind', () => {
    const series = { ...base, id: 'errors', kind: 'anomaly', subject: 'series', signal: 'ingest.errors', detector: 'any', direction: 'spike' };

    expect(issuePaths(() => alertRulesDocumentSchema.parse({ rules: [threshold('a'), series, composite('c', ['a', 'nowhere', 'errors'])] }))).toEqual([
      'rules.2.conditions.1',
      'rules.2.conditions.2',
    ]);
  });

  it('refuses a cycle of composites', () => {
    const rules = [threshold('a'), composite('b', ['a', 'c']), composite('c', ['b'])];

    expect(() => alertRulesDocumentSchema.parse({ rules })).toThrow(/cycle: b -> c -> b/);
    expect(issuePaths(() => alertRulesDocumentSchema.parse({ rules }))).toEqual(['rules.1.conditions', 'rules.2.conditions']);
  });

  it('refuses an unknown top-level field and a bad rule, naming its path', () => {
    expect(() => alertRulesDocumentSchema.parse({ rules: [], extra: 1 })).toThrow(/extra/);
    expect(issuePaths(() => alertRulesDocumentSchema.parse({ rules: [threshold('a'), threshold('b', { op: 'gt' })] }))).toEqual(['rules.1.op']);
  });
});

describe('DEFAULT_RULES', () => {
  it('ships the safety triggers and the operations anomaly rules with their routing', () => {
    const byId = new Map(DEFAULT_RULES.map((rule) => [rule.id, rule]));

    expect([...byId.keys()]).toEqual(['crisis-signal', 'emotional-state-crisis', 'phq9-item9', 'phq9-rise', 'at-risk-no-session', 'detect-lag', 'crisis-signals-surge', 'ingest-errors-surge', 'ingest-slow']);
    for (const id of ['crisis-signals-surge', 'ingest-errors-surge', 'ingest-slow']) {
      expect(byId.get(id)).toMatchObject({ kind: 'anomaly', subject: 'series', severity: 'warning', direction: 'spike', labels: { category: 'operations' } });
    }
    // Two tiers: a crisis pages now and escalates; the other safety findings go to the worklist and the digest, never paged or escalated.
    for (const id of ['crisis-signal', 'emotional-state-crisis']) {
      expect(byId.get(id)).toMatchObject({ severity: 'critical', marksAtRisk: true, routing: { channels: ['sns', 'email', 'dashboard'], repeatIntervalSec: 3600, escalateAfterSec: 900 } });
    }
    const worklist = { channels: ['dashboard', 'digest'], repeatIntervalSec: 86_400 };
    expect(byId.get('phq9-item9')).toMatchObject({ severity: 'critical', marksAtRisk: true, routing: worklist });
    expect(byId.get('phq9-item9')!.routing.escalateAfterSec).toBeUndefined();
    expect(byId.get('phq9-rise')).toMatchObject({ kind: 'rate_of_change', severity: 'warning', routing: worklist });
    expect(byId.get('at-risk-no-session')).toMatchObject({ kind: 'absence', scope: 'at_risk', forSec: 7 * 86_400, routing: worklist });
    for (const id of ['crisis-signals-surge', 'ingest-errors-surge', 'ingest-slow']) expect(byId.get(id)).toMatchObject({ routing: { channels: ['sns', 'dashboard'] } });
    // A stalled detect consumer pages like a crisis, at the stack's detect iterator-age alarm limit.
    expect(byId.get('detect-lag')).toMatchObject({ kind: 'threshold', subject: 'series', severity: 'critical', signal: 'stream.lag_seconds', match: { consumer: 'detect' }, op: '>', value: 30, routing: { channels: ['sns', 'email', 'dashboard'] } });
  });

  it('recommend crisis support on a crisis signal and a check-in on a PHQ-9 rise, and nothing on the rest', () => {
    const intervening = DEFAULT_RULES.filter((rule) => rule.intervene).map((rule) => [rule.id, rule.intervene]);

    expect(intervening).toEqual([
      ['crisis-signal', { interventionType: 'crisis_support', urgency: 'crisis' }],
      ['phq9-rise', { interventionType: 'check_in', urgency: 'elevated' }],
    ]);
  });

  it('refuse an intervention on series, or of a type or urgency the app does not know, naming the field', () => {
    const series = { ...base, id: 'errors', kind: 'anomaly', subject: 'series', signal: 'ingest.errors', detector: 'any', direction: 'spike' };
    const intervene = { interventionType: 'grounding', urgency: 'elevated' };

    expect(issuePaths(() => alertRuleSchema.parse({ ...series, intervene }))).toEqual(['intervene']);
    expect(issuePaths(() => alertRuleSchema.parse(threshold('a', { intervene: { ...intervene, interventionType: 'hug' } })))).toEqual(['intervene.interventionType']);
    expect(issuePaths(() => alertRuleSchema.parse(threshold('a', { intervene: { ...intervene, urgency: 'now' } })))).toEqual(['intervene.urgency']);
    expect(alertRuleSchema.parse(threshold('a', { intervene })).intervene).toEqual(intervene);
  });

  it('are replaced by a stored rule of the same id, and other stored rules follow them', () => {
    const disabled = alertRuleSchema.parse({ ...DEFAULT_RULES[0]!, enabled: false });
    const extra = alertRuleSchema.parse(threshold('low-mood'));

    const merged = mergeRules(DEFAULT_RULES, [extra, disabled]);

    expect(merged.map((rule) => [rule.id, rule.enabled])).toEqual([...DEFAULT_RULES.map((rule) => [rule.id, rule.id !== 'crisis-signal']), ['low-mood', true]]);
  });

  it('give transitions a rule label, for grouping by rule', () => {
    expect(ruleRef(DEFAULT_RULES[0]!)).toEqual({
      id: 'crisis-signal',
      severity: 'critical',
      labels: { category: 'safety', rule: 'crisis-signal' },
      routing: DEFAULT_RULES[0]!.routing,
      intervene: { interventionType: 'crisis_support', urgency: 'crisis' },
    });
  });
});
