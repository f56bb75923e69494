import {
  alertLabels,
  alertMessage,
  fingerprint,
  groupForNotification,
  groupKey,
  isEscalationDue,
  isRepeatDue,
  type AlertState,
} from '../../../functions/domain/alerting/alert';
import type { RuleRef } from '../../../functions/domain/alerting/model';
import { compileMatcherPattern, isSilenced, silenceInputSchema, silenceWindow, silences, type Silence } from '../../../functions/domain/alerting/silence';

const user = { kind: 'user', id: 'a'.repeat(64) } as const;
const rule: RuleRef = {
  id: 'crisis-signal',
  severity: 'critical',
  labels: { team: 'clinical', severity: 'ignored' },
  routing: { channels: ['sns', 'email'], groupBy: ['rule'], repeatIntervalSec: 600, escalateAfterSec: 300 },
};
const t0 = new Date('2026-11-20T10:00:00.000Z');
const at = (sec: number) => new Date(t0.getTime() + sec * 1000);

const state = (over: Partial<AlertState> = {}): AlertState => ({
  id: 'alert-1',
  fingerprint: fingerprint(rule.id, user),
  rule: rule.id,
  severity: 'critical',
  status: 'firing',
  subject: `user:${user.id}`,
  labels: alertLabels(rule, user),
  summary: 'crisis signal',
  routing: rule.routing,
  startsAt: t0,
  ...over,
});

describe('fingerprint and labels', () => {
  it('gives the same fingerprint for the same rule and subject, and another for another subject or rule', () => {
    expect(fingerprint('crisis-signal', user)).toBe(fingerprint('crisis-signal', { kind: 'user', id: 'a'.repeat(64) }));
    expect(fingerprint('crisis-signal', user)).not.toBe(fingerprint('crisis-signal', { kind: 'series', id: 'a'.repeat(64) }));
    expect(fingerprint('crisis-signal', user)).not.toBe(fingerprint('phq9-item9', user));
    expect(fingerprint('crisis-signal', user)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('labels an alert with the rule labels plus rule, severity and subject, which win', () => {
    expect(alertLabels(rule, user)).toEqual({ team: 'clinical', rule: 'crisis-signal', severity: 'critical', subject: `user:${user.id}` });
  });
});

describe('grouping', () => {
  it('keys a group by the groupBy label values in name order, a missing label empty', () => {
    expect(groupKey({ rule: 'r', team: 't' }, ['team', 'rule'])).toBe('{rule="r",team="t"}');
    expect(groupKey({ rule: 'r' }, ['zone'])).toBe('{zone=""}');
    expect(groupKey({ rule: 'r' }, [])).toBe('{}');
  });

  it('groups alerts of one group key, severity and channels together', () => {
    const warning = state({ id: 'w', severity: 'warning', labels: { ...state().labels, severity: 'warning' } });
    const a = state({ id: 'a', subject: 'user:1' });
    const b = state({ id: 'b', subject: 'user:2' });
    const otherRule = state({ id: 'c', rule: 'phq9', labels: { ...state().labels, rule: 'phq9' } });
    const groups = groupForNotification([warning, a, otherRule, b], (x) => x);
    expect(groups.map((g) => g.map((x) => x.id))).toEqual([['w'], ['a', 'b'], ['c']]);
  });

  it('builds one message for a group, linking to the first alert', () => {
    const message = alertMessage('firing', [state({ id: 'a' }), state({ id: 'b' })], 'https://dash.example');
    expect(message).toEqual({
      kind: 'firing',
      severity: 'critical',
      groupKey: '{rule="crisis-signal"}',
      alerts: [
        { id: 'a', rule: 'crisis-signal', subject: `user:${user.id}`, startsAt: t0.toISOString(), summary: 'crisis signal' },
        { id: 'b', rule: 'crisis-signal', subject: `user:${user.id}`, startsAt: t0.toISOString(), summary: 'crisis signal' },
      ],
      dashboardUrl: 'https://dash.example/alerts/a',
    });
  });
});

describe('repeat and escalation decisions', () => {
  it('repeats a firing alert only once the repeat interval has passed since its last notification', () => {
    expect(isRepeatDue(state({ lastNotifiedAt: t0 }), at(599))).toBe(false);
    expect(isRepeatDue(state({ lastNotifiedAt: t0 }), at(600))).toBe(true);
    expect(isRepeatDue(state({ lastNotifiedAt: t0, status: 'acknowledged' }), at(6000))).toBe(false);
    expect(isRepeatDue(state({ lastNotifiedAt: undefined }), at(6000))).toBe(false);
  });

  it('escalates an unacknowledged critical alert once, after escalateAfterSec from its start', () => {
    expect(isEscalationDue(state(), at(299))).toBe(false);
    expect(isEscalationDue(state(), at(300))).toBe(true);
    expect(isEscalationDue(state({ escalatedAt: at(300) }), at(900))).toBe(false);
    expect(isEscalationDue(state({ status: 'acknowledged' }), at(900))).toBe(false);
    expect(isEscalationDue(state({ severity: 'warning' }), at(900))).toBe(false);
    expect(isEscalationDue(state({ routing: { ...rule.routing, escalateAfterSec: undefined } }), at(900))).toBe(false);
  });
});

describe('silences', () => {
  const silence = (matchers: Silence['matchers']) => ({ matchers, startsAt: at(0).toISOString(), endsAt: at(3600).toISOString() });
  const labels = alertLabels(rule, user);

  it('silences an alert when every matcher matches, only between startsAt and endsAt', () => {
    const s = silence([{ name: 'rule', value: 'crisis-signal' }, { name: 'team', value: 'clinical' }]);
    expect(silences(s, labels, at(10))).toBe(true);
    expect(silences(s, labels, at(-1))).toBe(false);
    expect(silences(s, labels, at(3600))).toBe(false);
    expect(silences(silence([{ name: 'rule', value: 'crisis-signal' }, { name: 'team', value: 'ops' }]), labels, at(10))).toBe(false);
  });

  it('anchors regex matchers at both ends, and negates with isEqual false', () => {
    expect(silences(silence([{ name: 'rule', value: 'crisis-.*', isRegex: true }]), labels, at(10))).toBe(true);
    expect(silences(silence([{ name: 'rule', value: 'crisis', isRegex: true }]), labels, at(10))).toBe(false);
    expect(silences(silence([{ name: 'rule', value: 'crisis-signal', isEqual: false }]), labels, at(10))).toBe(false);
    expect(silences(silence([{ name: 'rule', value: 'phq9.*', isRegex: true, isEqual: false }]), labels, at(10))).toBe(true);
    // A label the alert lacks has the empty value.
    expect(silences(silence([{ name: 'zone', value: '' }]), labels, at(10))).toBe(true);
    expect(isSilenced([silence([{ name: 'rule', value: 'x' }]), silence([{ name: 'severity', value: 'critical' }])], labels, at(10))).toBe(true);
  });

  it('matches a pattern that backtracks catastrophically elsewhere in linear time, with the right answer', () => {
    // `([^!]+)+!` against a long label without `!` takes a backtracking engine 2^n steps.
    const pathological = silence([{ name: 'subject', value: '([^!]+)+!', isRegex: true }]);
    const long = 'a'.repeat(100_000);

    expect(silences(pathological, { subject: long }, at(10))).toBe(false);
    expect(silences(pathological, { subject: `${long}!` }, at(10))).toBe(true);
    expect(silences(silence([{ name: 'rule', value: '(a|aa)*b', isRegex: true }]), { rule: long }, at(10))).toBe(false);
  });

  it('compiles each pattern once', () => {
    expect(compileMatcherPattern('crisis-(signal|state)')).toBe(compileMatcherPattern('crisis-(signal|state)'));
  });

  it('mutes nothing with a silence it cannot evaluate, and names that silence', () => {
    // A lookahead, as a silence stored before RE2 was the engine might hold.
    const broken = { ...silence([{ name: 'rule', value: '(?=crisis).*', isRegex: true }]), id: 'broken-1' };
    const reported: string[] = [];

    const muted = isSilenced([broken], labels, at(10), (s, error) => reported.push(`${s.id}: ${error instanceof Error ? 'error' : 'other'}`));

    expect(muted).toBe(false);
    expect(reported).toEqual(['broken-1: error']);
    // Another silence in force still mutes.
    expect(isSilenced([broken, silence([{ name: 'rule', value: 'crisis-signal' }])], labels, at(10))).toBe(true);
  });

  it.each([
    ['a backreference', '(a)\\1', 'RE2 accepts'],
    ['a lookahead', 'crisis(?=-signal)', 'RE2 accepts'],
    ['a negative lookahead', '(?!phq9).*', 'RE2 accepts'],
    ['a lookbehind', '(?<=user:)a+', 'RE2 accepts'],
    ['a repeat RE2 caps', 'a{1001}', 'RE2 accepts'],
    ['a pattern over the size limit', '.{600}.{600}', 'program size'],
    ['an unbalanced group', 'a)|(b', 'RE2 accepts'],
  ])('refuses a matcher pattern with %s, naming matchers.0.value', (_, value, reason) => {
    const result = silenceInputSchema.safeParse({ matchers: [{ name: 'rule', value, isRegex: true }], endsAt: '2026-11-21T00:00:00Z', comment: 'c' });

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['matchers.0.value', expect.stringContaining(reason)]]);
  });

  it('takes the pathological pattern itself: under RE2 it is harmless', () => {
    expect(silenceInputSchema.safeParse({ matchers: [{ name: 'subject', value: '([^!]+)+!', isRegex: true }], endsAt: '2026-11-21T00:00:00Z', comment: 'c' }).success).toBe(true);
  });

  it('takes a well-formed silence body', () => {
    const body = { matchers: [{ name: 'rule', value: 'crisis-signal' }], endsAt: '2026-11-21T00:00:00Z', comment: 'maintenance' };
    expect(silenceInputSchema.parse(body)).toEqual(body);
  });

  it.each([
    [{ matchers: [], endsAt: '2026-11-21T00:00:00Z', comment: 'c' }, 'matchers'],
    [{ matchers: [{ name: 'rule', value: '(' , isRegex: true }], endsAt: '2026-11-21T00:00:00Z', comment: 'c' }, 'matchers.0.value'],
    [{ matchers: [{ name: 'rule', value: 'x'.repeat(257) }], endsAt: '2026-11-21T00:00:00Z', comment: 'c' }, 'matchers.0.value'],
    [{ matchers: [{ name: 'ru le', value: 'x' }], endsAt: '2026-11-21T00:00:00Z', comment: 'c' }, 'matchers.0.name'],
    [{ matchers: [{ name: 'rule', value: 'x', extra: 1 }], endsAt: '2026-11-21T00:00:00Z', comment: 'c' }, 'matchers.0'],
    [{ matchers: [{ name: 'rule', value: 'x' }], endsAt: 'tomorrow', comment: 'c' }, 'endsAt'],
    [{ matchers: [{ name: 'rule', value: 'x' }], startsAt: '2026-11-21T00:00:00Z', endsAt: '2026-11-20T00:00:00Z', comment: 'c' }, 'endsAt'],
    [{ matchers: [{ name: 'rule', value: 'x' }], startsAt: '2026-11-01T00:00:00Z', endsAt: '2026-12-02T00:00:00Z', comment: 'c' }, 'endsAt'],
    [{ matchers: [{ name: 'rule', value: 'x' }], endsAt: '2026-11-21T00:00:00Z', comment: ' ' }, 'comment'],
    [{ matchers: [{ name: 'rule', value: 'x' }], endsAt: '2026-11-21T00:00:00Z', comment: 'c', createdBy: 'me' }, ''],
  ])('refuses a bad silence body, naming the field (%#)', (body, path) => {
    const result = silenceInputSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  it('starts a silence now unless told, and refuses one already over or over 30 days', () => {
    const input = { matchers: [{ name: 'rule', value: 'x' }], comment: 'c' };
    expect(silenceWindow({ ...input, endsAt: at(60).toISOString() }, t0)).toEqual({ startsAt: t0, endsAt: at(60) });
    expect(silenceWindow({ ...input, endsAt: at(-60).toISOString() }, t0)).toEqual({ error: 'endsAt: must be in the future' });
    expect(silenceWindow({ ...input, endsAt: at(31 * 86_400).toISOString() }, t0)).toHaveProperty('error');
  });
});
