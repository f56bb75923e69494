import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

/**
 * Issue 13.3: once 30 people consented to research, released figures included a count of -12, a
 * mood valence mean of -2.27 (range -1..1) and a mean of -1,217,740; and with nobody consented,
 * the report said only `k_anonymity`. Here every released figure is checked through the public
 * API against what it can be, however the noise fell.
 */
const K = 5;
const at = new Date(Date.now() - 30 * 60_000);
const range = { from: new Date(at.getTime() - 3_600_000).toISOString(), to: new Date(at.getTime() + 3_600_000).toISOString() };
const RESEARCH = { analytics: true, research: true, safety_monitoring: false };
const NO_RESEARCH = { analytics: true, research: false, safety_monitoring: false };
const NON_NEGATIVE = new Set(['events', 'sessions', 'sessions.completed', 'interventions', 'session.duration', 'choice.response_time', 'choice.therapeutic_value', 'assessment.score']);

/** Every research metric, from one user: a mood of their own valence, an assessment, a session, a choice, an intervention. */
function eventsOf(userId: string, n: number): Record<string, unknown>[] {
  const event = (type: Parameters<typeof makeEvent>[1], attributes?: Record<string, unknown>) =>
    makeEvent({ userId, sessionId: `${userId}-session`, occurredAt: at.toISOString(), ...(attributes && { attributes }) }, type);
  const score = n % 28;
  return [
    event('mood.reported', { valence: ((n % 21) - 10) / 10, arousal: 0.5 }),
    // Nine items of 0 to 3 that add up to the score.
    event('assessment.completed', { instrument: 'PHQ-9', score, items: Array.from({ length: 9 }, (_, i) => Math.min(3, Math.max(0, score - 3 * i))) }),
    event('session.started'),
    event('session.ended'),
    event('choice.made'),
    event('intervention.delivered'),
  ];
}

async function studyOf(app: TestRuntime, userIds: readonly string[], scopes: typeof RESEARCH): Promise<void> {
  await app.consent(userIds, scopes);
  const events = userIds.flatMap(eventsOf);
  const posted = await app.request('POST', '/v1/events', { body: { events } });
  if (posted.body.accepted !== events.length) throw new Error(`the runtime took ${posted.body.accepted} of ${events.length} events`);
  await app.runtime.drain();
}

interface Figure {
  value: number;
  standardDeviation: number;
  interval: { lower: number; upper: number };
}

/** What is wrong with one released figure, in words; [] when it makes sense. */
function nonsenseOf(name: string, figure: Figure, least: number, most: number): string[] {
  const wrong: string[] = [];
  if (!(figure.value >= least && figure.value <= most)) wrong.push(`${name} ${figure.value} outside ${least}..${most}`);
  if (!(figure.interval.lower <= figure.value && figure.value <= figure.interval.upper)) wrong.push(`${name} ${figure.value} outside its interval`);
  if (!(figure.interval.lower >= least && figure.interval.upper <= most)) wrong.push(`${name}'s interval outside ${least}..${most}`);
  if (!(figure.standardDeviation > 0)) wrong.push(`${name} without its noise's standard deviation`);
  return wrong;
}

/** A research export's answer (or a report's line, read into the same shape): what is wrong with it. */
function nonsense(metric: string, release: { count: Figure; sum?: Figure; mean?: Figure; bounds: { lower: number; upper: number }; suppressed: { reason: string; figure?: string }[] }): string[] {
  const { count, sum, mean, bounds, suppressed } = release;
  const wrong = nonsenseOf(`${metric} count`, count, 0, Infinity);
  if (!Number.isInteger(count.value)) wrong.push(`${metric} count ${count.value} not whole`);
  if (sum) wrong.push(...nonsenseOf(`${metric} sum`, sum, NON_NEGATIVE.has(metric) ? 0 : -Infinity, Infinity));
  if (mean) wrong.push(...nonsenseOf(`${metric} mean`, mean, bounds.lower, bounds.upper));
  const meanWithheld = suppressed.some((each) => each.reason === 'insufficient_data' && each.figure === 'mean');
  if (sum && !mean !== meanWithheld) wrong.push(`${metric}: a mean neither released nor withheld as insufficient_data`);
  return wrong;
}

const CSV_FIGURES = ['count', 'sum', 'mean'] as const;

/** The report's CSV, each released line read back into the shape of an export's answer. */
function csvReleases(content: string): { metric: string; release: Parameters<typeof nonsense>[1]; withheld: string }[] {
  const [header = '', ...rows] = content.trim().split('\n');
  const columns = header.split(',');
  return rows.map((row) => {
    const cells = new Map(row.split(',').map((cell, i) => [columns[i] ?? '', cell]));
    const number = (column: string) => (cells.get(column) === '' ? undefined : Number(cells.get(column)));
    const figures = Object.fromEntries(
      CSV_FIGURES.filter((name) => number(name) !== undefined).map((name) => [
        name,
        { value: number(name), standardDeviation: number(`${name}_sd`), interval: { lower: number(`${name}_low`), upper: number(`${name}_high`) } },
      ]),
    );
    const [lower, upper] = (cells.get('clamped_to') ?? '').split('..').map(Number);
    const withheld = cells.get('suppressed') ?? '';
    const suppressed = withheld === 'insufficient_data' ? [{ reason: withheld, figure: 'mean' }] : [];
    return { metric: cells.get('metric') ?? '', release: { ...figures, bounds: { lower, upper }, suppressed } as Parameters<typeof nonsense>[1], withheld };
  });
}

describe('released figures once 30 people consent to research (k 5)', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K), PRIVACY_BUDGET_EPSILON: '20' });
    await studyOf(
      app,
      Array.from({ length: 30 }, (_, i) => `study-${i}`),
      RESEARCH,
    );
  });
  afterAll(async () => {
    await app?.stop();
  });

  it.each([
    ['laplace', { epsilon: 1 }],
    ['gaussian', { epsilon: 1, mechanism: 'gaussian', delta: 1e-7 }],
    ['laplace, one value a user', { epsilon: 2, maxContributionsPerUser: 1 }],
  ])('a research report (%s) releases every metric, with figures that all make sense, in its summary and its CSV', async (_name, parameters) => {
    const created = await app.request('POST', '/v1/reports', { body: { kind: 'research', ...range, ...parameters } });
    const { page, text: content } = await app.madeReport(created.body.id as string);
    const lines = csvReleases(content);

    expect(created.status).toBe(202);
    expect(page.summary.released).toHaveLength(9);
    expect(lines.flatMap(({ metric, release }) => nonsense(metric, release))).toEqual([]);
    // The summary withholds exactly the means the CSV left empty, each saying why.
    expect(page.summary.suppressed).toEqual(
      lines.filter(({ withheld }) => withheld !== '').map(({ metric }) => ({ metric, reason: 'insufficient_data', figure: 'mean', message: expect.stringContaining('too small to carry a mean') })),
    );
  });

  it.each(['mood.valence', 'assessment.score', 'session.duration', 'choice.response_time', 'events'])('a research export of %s releases figures that make sense, and a mean where the count carries it', async (metric) => {
    const answer = await app.request('POST', '/v1/research/exports', { body: { ...range, metric, epsilon: 0.5, maxContributionsPerUser: 1 } });

    expect(answer.status).toBe(200);
    expect(nonsense(metric, answer.body)).toEqual([]);
    expect(answer.body.count).toMatchObject({ noise: { distribution: 'discrete_laplace', scale: 1 / (metric === 'events' ? 0.5 : 0.25) }, interval: { confidence: 0.95 } });
  });

  it('releases the mood valence mean of 30 people inside -1..1 with a narrow interval when the count carries it', async () => {
    const answer = await app.request('POST', '/v1/research/exports', { body: { ...range, metric: 'mood.valence', epsilon: 4, maxContributionsPerUser: 1 } });

    expect(answer.body.suppressed).toEqual([]);
    expect(answer.body.mean.value).toBeGreaterThanOrEqual(-1);
    expect(answer.body.mean.value).toBeLessThanOrEqual(1);
    expect(answer.body.mean.interval.upper - answer.body.mean.interval.lower).toBeLessThan(1);
  });
});

describe('suppression reasons when nobody, then one person, consented to research (k 5)', () => {
  let app: TestRuntime;
  const report = () => app.request('POST', '/v1/reports', { body: { kind: 'research', ...range, epsilon: 1 } });
  const exportOf = (metric: string) => app.request('POST', '/v1/research/exports', { body: { ...range, metric, epsilon: 0.5 } });

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    await studyOf(app, ['p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6'], NO_RESEARCH);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('says no_research_consent, and how to give it, in the report summary, its CSV and an export, spending nothing', async () => {
    const created = await report();
    const { page, text: content } = await app.madeReport(created.body.id as string);
    const exported = await exportOf('mood.valence');
    const budget = await app.request('GET', '/v1/privacy/budget');

    expect(created.status).toBe(202);
    expect(page.summary.released).toEqual([]);
    expect(page.summary.suppressed).toHaveLength(9);
    expect(new Set(page.summary.suppressed.map((each: { reason: string }) => each.reason))).toEqual(new Set(['no_research_consent']));
    expect(page.summary.suppressed[0].message).toMatch(/PUT \/v1\/consent\/\{userId\} with "research": true/);
    expect(csvReleases(content).map(({ withheld }) => withheld)).toEqual(Array.from({ length: 9 }, () => 'no_research_consent'));
    expect(exported.status).toBe(200);
    expect(exported.body.suppressed).toEqual([page.summary.suppressed[0] && { reason: 'no_research_consent', message: page.summary.suppressed[0].message }]);
    expect(exported.body.count).toBeUndefined();
    expect(budget.body.datasets[0].releases).toBe(0);
  });

  it('says k_anonymity once one person consented to research and sent events: fewer than k, not nobody', async () => {
    await studyOf(app, ['q-1'], RESEARCH);

    const exported = await exportOf('mood.valence');

    expect(exported.body.suppressed).toEqual([{ reason: 'k_anonymity', message: `fewer than ${K} research-consented users contributed to this metric over the range` }]);
  });
});
