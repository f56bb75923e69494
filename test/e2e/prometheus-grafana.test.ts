import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SESSION_DURATION_BUCKETS_SECONDS } from '../../functions/domain/operations/usage-metrics';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const DASHBOARD = join(__dirname, '..', '..', 'lib', 'grafana', 'therapeutic-analytics.json');

// Raw ids that must never reach a label: only their pseudonyms are kept, and labels take none.
const tag = randomBytes(6).toString('hex');
const CANARY_USER = `canary-user-${tag}@example.org`;
const CANARY_SESSION = `canary-session-${tag}`;
const CANARY_SCENARIO = `canary-scenario-${tag}`;
const CANARY_CHANNEL = `canary-channel-${tag}`;
const OTHER_USER = `other-user-${tag}`;

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const on = (platform: string) => ({ context: { platform }, userId: CANARY_USER, sessionId: CANARY_SESSION });
const started = (platform: string) => makeEvent({ ...on(platform), attributes: { scenarioId: CANARY_SCENARIO, channel: CANARY_CHANNEL } }, 'session.started');
const ended = (platform: string, durationSec: number) => makeEvent({ ...on(platform), attributes: { scenarioId: CANARY_SCENARIO, durationSec, completed: true } }, 'session.ended');

/** What the runtime takes in: sessions on two platforms, a mood, a live crisis (an alert) and one two days old (history). */
const TAKEN = [
  started('ios'),
  started('ios'),
  started('web'),
  ended('ios', 30),
  ended('ios', 400),
  ended('ios', 3_000),
  ended('web', 10_000),
  makeEvent({ ...on('ios') }, 'mood.reported'),
  makeEvent({ ...on('ios'), occurredAt: minutesAgo(1) }, 'crisis.signal'),
  makeEvent({ ...on('ios'), occurredAt: minutesAgo(48 * 60) }, 'crisis.signal'),
];
/** What it refuses: a type that is none of the event types, and a mood of a user who never consented. */
const REFUSED = [
  { ...makeEvent({ userId: CANARY_USER }), type: 'made.up' },
  makeEvent({ userId: OTHER_USER, sessionId: CANARY_SESSION }, 'mood.reported'),
];

/** Each sample of the text, by its series (name and labels as written), and each metric's declared type. */
function parseExposition(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (sample) samples.set(sample[1]!, Number(sample[2]));
  }
  return { samples, types };
}

/** The series names a scrape holds: a histogram's `_bucket`, `_sum` and `_count`, a summary's `_sum` and `_count`, beside the declared names. */
function exposedNames(text: string): Set<string> {
  const { samples, types } = parseExposition(text);
  const names = new Set([...samples.keys()].map((series) => series.replace(/\{.*$/, '')));
  for (const [name, type] of types) {
    const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : [''];
    for (const suffix of suffixes) names.add(`${name}${suffix}`);
  }
  return names;
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads: its identifiers once strings, label matchers,
 * ranges and grouping clauses are taken out, but for functions (a name before `(`) and keywords.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)].filter((m) => m[2] === undefined && !PROMQL_WORDS.has(m[1]!.toLowerCase())).map((m) => m[1]!);
}

interface Panel {
  readonly title?: string;
  readonly type: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly { readonly expr?: string; readonly datasource?: { readonly uid?: string } }[];
  readonly panels?: readonly Panel[];
}

const panelsOf = (panels: readonly Panel[]): Panel[] => panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);

describe('metricNamesIn', () => {
  it('finds the metric names of an expression, not its functions, labels, ranges or groupings', () => {
    const expr = 'histogram_quantile(0.95, sum by (le, session_type) (rate(tta_session_duration_seconds_bucket{instance=~"$instance",le!="x{y}"}[$__rate_interval]))) / on (job) group_left sum(up)';

    expect(metricNamesIn(expr)).toEqual(['tta_session_duration_seconds_bucket', 'up']);
  });
});

describe('GET /metrics and the Grafana dashboard, through the embedded runtime', () => {
  let app: TestRuntime;
  let first: string;
  let retried: string;
  let answers: { status: number; body: { accepted: number } }[];

  beforeAll(async () => {
    app = await startTestRuntime();
    await app.consent([CANARY_USER]);
    const post = () => app.request('POST', '/v1/events', { body: { events: [...TAKEN, ...REFUSED] } });
    const scrape = async () => (await fetch(`${app.runtime.url}/metrics`)).text();
    answers = [await post()];
    await app.runtime.drain();
    await app.runtime.detect();
    first = await scrape();
    // The same request again, as a client does after a timeout: ingest takes it again, the aggregator's dedupe does not.
    answers.push(await post());
    await app.runtime.drain();
    await app.runtime.detect();
    retried = await scrape();
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
  });

  it("counts the platform's sessions, interactions and session durations as they were posted", () => {
    const { samples } = parseExposition(first);

    expect(answers.map((answer) => [answer.status, answer.body.accepted])).toEqual([
      [202, TAKEN.length],
      [202, TAKEN.length],
    ]);
    expect(samples.get('tta_user_sessions_total{session_type="ios"}')).toBe(2);
    expect(samples.get('tta_user_sessions_total{session_type="web"}')).toBe(1);
    expect(Object.fromEntries([...samples].filter(([series]) => series.startsWith('tta_user_interactions_total')))).toEqual({
      'tta_user_interactions_total{interaction_type="session.started",success="true"}': 3,
      'tta_user_interactions_total{interaction_type="session.ended",success="true"}': 4,
      'tta_user_interactions_total{interaction_type="mood.reported",success="true"}': 1,
      'tta_user_interactions_total{interaction_type="crisis.signal",success="true"}': 2,
      'tta_user_interactions_total{interaction_type="invalid",success="false"}': 1,
      'tta_user_interactions_total{interaction_type="mood.reported",success="false"}': 1,
    });
  });

  it('writes tta_session_duration_seconds with the buckets 60, 300, 600, 1800, 3600 and 7200 s', () => {
    const { samples, types } = parseExposition(first);
    const buckets = (sessionType: string) =>
      [...samples].flatMap(([series, value]) => {
        const bucket = new RegExp(`^tta_session_duration_seconds_bucket\\{le="([^"]+)",session_type="${sessionType}"\\}$`).exec(series);
        return bucket ? [[bucket[1], value]] : [];
      });

    expect(types.get('tta_session_duration_seconds')).toBe('histogram');
    expect(SESSION_DURATION_BUCKETS_SECONDS).toEqual([60, 300, 600, 1800, 3600, 7200]);
    expect(buckets('ios')).toEqual([['60', 1], ['300', 1], ['600', 2], ['1800', 2], ['3600', 3], ['7200', 3], ['+Inf', 3]]);
    expect(buckets('web')).toEqual([['60', 0], ['300', 0], ['600', 0], ['1800', 0], ['3600', 0], ['7200', 0], ['+Inf', 1]]);
    expect(samples.get('tta_session_duration_seconds_sum{session_type="ios"}')).toBe(3_430);
    expect(samples.get('tta_session_duration_seconds_count{session_type="web"}')).toBe(1);
  });

  it('counts a retried request again at ingest, and its events once in the tta_ metrics', () => {
    const [before, after] = [parseExposition(first).samples, parseExposition(retried).samples];
    // Everything the tta_ metrics count of events taken in: all of them but the refusals.
    const usage = (samples: Map<string, number>) => [...samples].filter(([series]) => series.startsWith('tta_') && !series.includes('success="false"'));

    expect(after.get('events_accepted_total')).toBe(2 * TAKEN.length);
    expect(usage(after)).toEqual(usage(before));
    // The refused events were refused again: each receipt of a refused event counts.
    expect(after.get('tta_user_interactions_total{interaction_type="invalid",success="false"}')).toBe(2);
  });

  it('writes no user id, session id, scenario or channel', () => {
    for (const text of [first, retried]) {
      expect(text).not.toMatch(/canary|other-user/);
      expect(text).toContain('tta_user_sessions_total{session_type="ios"}');
    }
  });

  it("adds the product's own metrics and the process's default ones", () => {
    const { samples } = parseExposition(retried);

    expect(samples.get('events_rejected_total{code="invalid_event"}')).toBe(2);
    expect(samples.get('events_rejected_total{code="consent_missing"}')).toBe(2);
    expect(samples.get('safety_signals_history_total')).toBeGreaterThanOrEqual(1);
    expect([...samples.keys()].filter((series) => series.startsWith('alert_latency_ms_count{')).length).toBeGreaterThanOrEqual(1);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('has a Grafana dashboard whose every query reads metrics /metrics exposes, through the ${DS_PROMETHEUS} input', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { __inputs: { name: string; pluginId: string }[]; panels: Panel[] };
    const panels = panelsOf(dashboard.panels).filter((panel) => panel.type !== 'row');
    const exprs = panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''));
    const referenced = new Set(exprs.flatMap(metricNamesIn));
    const exposed = exposedNames(retried);

    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', pluginId: 'prometheus' })]);
    expect(panels.filter((panel) => panel.datasource?.uid !== '${DS_PROMETHEUS}' || (panel.targets ?? []).some((t) => t.datasource?.uid !== '${DS_PROMETHEUS}'))).toEqual([]);
    expect(panels.filter((panel) => (panel.targets ?? []).length === 0 || (panel.targets ?? []).some((t) => !t.expr))).toEqual([]);
    expect([...referenced].filter((name) => !exposed.has(name))).toEqual([]);
    expect([...referenced]).toEqual(expect.arrayContaining(['tta_user_sessions_total', 'tta_user_interactions_total', 'tta_session_duration_seconds_bucket', 'events_accepted_total', 'events_rejected_total', 'ingest_latency_ms_bucket', 'alert_latency_ms_bucket']));
    expect(exprs.filter((expr) => expr.includes('tta_session_duration_seconds_bucket') && expr.startsWith('histogram_quantile('))).not.toEqual([]);
  });
});
