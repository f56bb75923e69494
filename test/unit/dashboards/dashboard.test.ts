import {
  canChange,
  canSee,
  dashboardUpdateSchema,
  MAX_WIDGETS,
  newDashboardSchema,
  parseRange,
  rangeStart,
  type Dashboard,
  type Widget,
} from '../../../functions/domain/dashboards/dashboard';
import { READY_MADE_DASHBOARDS, READY_MADE_OWNER, readyMadeDashboard } from '../../../functions/domain/dashboards/ready-made';
import { widgetQueryIssue } from '../../../functions/domain/dashboards/widget-reach';
import { DEFAULT_RETENTION } from '../../../functions/domain/privacy/retention';
import { findMetric } from '../../../functions/domain/rollups/catalogue';
import { invalidBody } from '../../../functions/handlers/http/errors';

const NOW = Date.parse('2027-03-31T10:15:00Z');
const reach = { now: NOW, minuteRollupDays: DEFAULT_RETENTION.minuteRollupDays, hourRollupDays: DEFAULT_RETENTION.hourRollupDays };

const widget = (overrides: Partial<Widget> = {}, query: Partial<Widget['query']> = {}): Widget => ({
  id: 'w1',
  title: 'Sessions per day',
  query: { metric: 'sessions', interval: 'day', groupBy: ['platform'], range: 'P30D', ...query },
  chart: 'line',
  grid: { x: 0, y: 0, w: 6, h: 4 },
  ...overrides,
});

/** The message of the 400 the API answers for a body, field first; undefined when it takes the body. */
function refusal(body: unknown): string | undefined {
  const parsed = newDashboardSchema.safeParse(body);
  if (!parsed.success) return invalidBody(parsed.error.issues).message;
  const issue = widgetQueryIssue(parsed.data.widgets, reach);
  return issue && invalidBody([issue]).message;
}

describe('a dashboard body', () => {
  it('takes a title alone, and a full dashboard, as sent', () => {
    const full = { title: 'Engagement', sharedWith: ['analyst', 'clinician'], widgets: [widget(), widget({ id: 'w2', chart: 'heatmap' }, { metric: 'events', interval: 'hour', groupBy: ['type'], filter: { platform: ['ios'] }, timeZone: 'Europe/London', range: 'P2D' })] };

    expect(newDashboardSchema.parse({ title: 'Empty' })).toEqual({ title: 'Empty', sharedWith: [], widgets: [] });
    expect(newDashboardSchema.parse(full)).toEqual(full);
    expect(refusal(full)).toBeUndefined();
  });

  it.each([
    ['an unknown metric', { widgets: [widget({}, { metric: 'logins' })] }, /^widgets\[0\]\.query\.metric: /],
    ['a dimension the metric does not have', { widgets: [widget(), widget({ id: 'w2' }, { groupBy: ['type'] })] }, /^widgets\[1\]\.query\.groupBy: unknown dimension 'type' for metric sessions; allowed: scenarioId, platform$/],
    ['a filter on a dimension the metric does not have', { widgets: [widget({}, { filter: { instrument: ['PHQ-9'] } })] }, /^widgets\[0\]\.query\.filter: unknown dimension 'instrument'/],
    ['a filter value that looks like an e-mail address', { widgets: [widget({}, { filter: { platform: ['someone@example.org'] } })] }, /^widgets\[0\]\.query\.filter: .*personal data/],
    ['a bad interval', { widgets: [widget({}, { interval: 'fortnight' as 'day' })] }, /^widgets\[0\]\.query\.interval: /],
    ['an unknown time zone', { widgets: [widget({}, { timeZone: 'Mars/Olympus_Mons' })] }, /^widgets\[0\]\.query\.timeZone: unknown time zone 'Mars\/Olympus_Mons'/],
    ['a zone whose local days cut stored hours', { widgets: [widget({}, { timeZone: 'Asia/Kolkata' })] }, /^widgets\[0\]\.query\.timeZone: Asia\/Kolkata is not a whole number of hours from UTC/],
    ['a range that is no ISO-8601 duration', { widgets: [widget({}, { range: '30 days' })] }, /^widgets\[0\]\.query\.range: must be an ISO-8601 duration/],
    ['a range of seconds', { widgets: [widget({}, { range: 'PT30S' })] }, /^widgets\[0\]\.query\.range: /],
    ['an empty range', { widgets: [widget({}, { range: 'P0D' })] }, /^widgets\[0\]\.query\.range: /],
    ['a minute range past the minute rollups', { widgets: [widget({}, { interval: 'minute', range: 'P8D' })] }, /^widgets\[0\]\.query\.(range|interval): /],
    ['an hour range past the hour rollups', { widgets: [widget({}, { interval: 'hour', range: 'P401D' })] }, /^widgets\[0\]\.query\.range: hour buckets are read from hour rollups, kept 400 days/],
    ['local days reaching back past the hours they are summed from', { widgets: [widget({}, { timeZone: 'America/New_York', range: 'P405D' })] }, /^widgets\[0\]\.query\.range: day buckets in America\/New_York are read from hour rollups, kept 400 days; use a shorter range, or UTC, whose days are kept$/],
    ['a range over ten years', { widgets: [widget({}, { range: 'P11Y' })] }, /^widgets\[0\]\.query\.range: reaches back more than 10 years$/],
    ['a widget past the 12th column', { widgets: [widget({ grid: { x: 8, y: 0, w: 6, h: 4 } })] }, /^widgets\[0\]\.grid\.w: x \+ w must be at most 12/],
    ['a fractional grid place', { widgets: [widget({ grid: { x: 0.5, y: 0, w: 6, h: 4 } })] }, /^widgets\[0\]\.grid\.x: /],
    ['an unknown chart', { widgets: [widget({ chart: 'pie' as 'bar' })] }, /^widgets\[0\]\.chart: /],
    ['two widgets of one id', { widgets: [widget(), widget()] }, /^widgets\[1\]\.id: is the id of an earlier widget/],
    ['too many widgets', { widgets: Array.from({ length: MAX_WIDGETS + 1 }, (_, i) => widget({ id: `w${i}` })) }, /^widgets: Too big/],
    ['a long title', { title: 'x'.repeat(121) }, /^title: Too big/],
    ['a title with a newline', { title: 'Line\nbreak' }, /^title: must not contain control characters/],
    ['a title naming a phone number', { title: 'Call +44 7700 900123' }, /^title: looks like personal data \(phone\)/],
    ['a role that cannot see dashboards', { sharedWith: ['ingest'] }, /^sharedWith\[0\]: /],
    ['a role named twice', { sharedWith: ['analyst', 'analyst'] }, /^sharedWith: names a role twice$/],
    ['an unknown field', { owner: 'someone-else' }, /^owner: unknown field$/],
  ])('refuses %s, naming the field', (_what, change, expected) => {
    expect(refusal({ title: 'A dashboard', ...change })).toMatch(expected);
  });

  it('names the field of a catalogue refusal as every 400 of the API does: widgets[1].query.groupBy in the message, dotted in details', () => {
    const issue = widgetQueryIssue([widget(), widget({ id: 'w2' }, { groupBy: ['platform', 'platform'] })], reach);
    const answer = invalidBody([issue!]);

    expect([answer.status, answer.code, answer.message, answer.details]).toEqual([400, 'invalid_request', 'widgets[1].query.groupBy: names a dimension twice', { field: 'widgets.1.query.groupBy' }]);
  });

  it('keeps minute widgets within the minute rollups as configured, and lets a UTC day widget reach back years', () => {
    const minutes = [widget({}, { interval: 'minute', range: 'P3D' })];
    const days = [widget({}, { interval: 'day', range: 'P5Y' })];

    expect(widgetQueryIssue(minutes, reach)).toBeUndefined();
    expect(widgetQueryIssue(minutes, { ...reach, minuteRollupDays: 2 })).toMatchObject({ path: ['widgets', 0, 'query', 'range'], message: 'minute buckets are read from minute rollups, kept 2 days; use a shorter range' });
    expect(widgetQueryIssue(days, reach)).toBeUndefined();
  });

  it('takes an update only with the version it was made from, and the whole dashboard', () => {
    const whole = { version: 3, title: 'T', sharedWith: [], widgets: [] };

    expect(dashboardUpdateSchema.parse(whole)).toEqual(whole);
    expect(dashboardUpdateSchema.safeParse({ ...whole, version: undefined }).error?.issues[0]?.path).toEqual(['version']);
    expect(dashboardUpdateSchema.safeParse({ ...whole, version: 0 }).error?.issues[0]?.path).toEqual(['version']);
    expect(dashboardUpdateSchema.safeParse({ version: 3, title: 'T' }).error?.issues[0]?.path).toEqual(['sharedWith']);
  });
});

describe('widget ranges', () => {
  it.each([
    ['P30D', { years: 0, months: 0, weeks: 0, days: 30, hours: 0, minutes: 0 }],
    ['P1Y2M', { years: 1, months: 2, weeks: 0, days: 0, hours: 0, minutes: 0 }],
    ['P2W', { years: 0, months: 0, weeks: 2, days: 0, hours: 0, minutes: 0 }],
    ['P1DT12H30M', { years: 0, months: 0, weeks: 0, days: 1, hours: 12, minutes: 30 }],
    ['PT6H', { years: 0, months: 0, weeks: 0, days: 0, hours: 6, minutes: 0 }],
  ])('reads %s', (text, duration) => {
    expect(parseRange(text)).toEqual(duration);
  });

  it.each(['P', 'PT', 'P1DT', 'P0D', 'PT0H0M', 'PT30S', 'P1.5D', 'p30d', '-P1D', 'P30', 'P12345D', 'R5/P1D'])('refuses %s', (text) => {
    expect(parseRange(text)).toBeUndefined();
  });

  it('starts a month back on the last day of a shorter month, and counts days, hours and minutes as fixed lengths', () => {
    expect(new Date(rangeStart(parseRange('P1M')!, NOW)).toISOString()).toBe('2027-02-28T10:15:00.000Z');
    expect(new Date(rangeStart(parseRange('P1Y1M')!, Date.parse('2028-03-31T00:00:00Z'))).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(new Date(rangeStart(parseRange('P1W1DT1H1M')!, NOW)).toISOString()).toBe('2027-03-23T09:14:00.000Z');
  });
});

describe('who sees and changes a dashboard', () => {
  const dashboard = { owner: 'analyst-1', sharedWith: ['clinician' as const] };

  it.each([
    ['its owner', true, true, { actor: 'analyst-1', role: 'analyst' }],
    ['an admin', true, true, { actor: 'admin-9', role: 'admin' }],
    ['a role it is shared with', true, false, { actor: 'clinician-2', role: 'clinician' }],
    ['another of the owner\'s role', false, false, { actor: 'analyst-2', role: 'analyst' }],
  ])('%s: sees it %s, changes it %s', (_who, sees, changes, viewer) => {
    expect([canSee(dashboard, viewer), canSee(dashboard, viewer) && canChange(dashboard, viewer)]).toEqual([sees, changes]);
  });
});

describe('the ready-made dashboards', () => {
  it.each(READY_MADE_DASHBOARDS.map((dashboard) => [dashboard.id, dashboard] as const))('%s passes the schema and every widget reads in full from the catalogue', (_id, dashboard) => {
    const { title, sharedWith, widgets } = dashboard;

    expect(newDashboardSchema.parse({ title, sharedWith, widgets })).toEqual({ title, sharedWith, widgets });
    expect(widgetQueryIssue(widgets, reach)).toBeUndefined();
    expect(widgets.length).toBeGreaterThanOrEqual(4);
    expect(widgets.every((each) => findMetric(each.query.metric))).toBe(true);
  });

  it('hold every widget in full on a day a month back falls short (31 March) and across a change of clocks', () => {
    for (const now of [Date.parse('2027-03-31T23:59:00Z'), Date.parse('2026-10-25T01:30:00Z')]) {
      expect(READY_MADE_DASHBOARDS.map((dashboard) => widgetQueryIssue(dashboard.widgets, { ...reach, now }))).toEqual(READY_MADE_DASHBOARDS.map(() => undefined));
    }
  });

  it('are the product\'s, shared with admins and analysts, at version 1, each with its own id', () => {
    const shapes = READY_MADE_DASHBOARDS.map(({ owner, sharedWith, version }) => ({ owner, sharedWith, version }));

    expect(READY_MADE_DASHBOARDS.map((dashboard) => dashboard.id)).toEqual(['engagement-overview', 'outcomes', 'operations']);
    expect(new Set(shapes.map((shape) => JSON.stringify(shape)))).toEqual(new Set([JSON.stringify({ owner: READY_MADE_OWNER, sharedWith: ['admin', 'analyst'], version: 1 })]));
    expect(readyMadeDashboard('outcomes')?.title).toBe('Outcomes');
    expect(readyMadeDashboard('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('are seen by admins and analysts, not by clinicians', () => {
    const [first] = READY_MADE_DASHBOARDS as [Dashboard];

    expect(['admin', 'analyst', 'clinician'].map((role) => canSee(first, { actor: `${role}-1`, role }))).toEqual([true, true, false]);
  });
});
