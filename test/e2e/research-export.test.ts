import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const K = 3;
const at = new Date(Date.now() - 30 * 60_000);
const range = { from: new Date(at.getTime() - 3_600_000).toISOString(), to: new Date(at.getTime() + 3_600_000).toISOString() };
const RESEARCH = { analytics: true, research: true, safety_monitoring: false };
const NO_RESEARCH = { analytics: true, research: false, safety_monitoring: false };
const mood = (userId: string) => makeEvent({ userId, occurredAt: at.toISOString() }, 'mood.reported');
const assessment = (userId: string) => makeEvent({ userId, occurredAt: at.toISOString() }, 'assessment.completed');

describe('research exports and the privacy budget (epsilon 1, k 3)', () => {
  let app: TestRuntime;
  const exportOf = (body: Record<string, unknown>) => app.request('POST', '/v1/research/exports', { body: { ...range, ...body } });

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K), PRIVACY_BUDGET_EPSILON: '1', PRIVACY_BUDGET_DELTA: '0.000001' });
    const researchers = ['r-1', 'r-2', 'r-3', 'r-4'];
    const others = ['o-1', 'o-2', 'o-3', 'o-4', 'o-5'];
    await app.consent(researchers, RESEARCH);
    await app.consent(others, NO_RESEARCH);
    // Moods from 4 research users; assessments from 2 research users and 5 who did not consent to research.
    const events = [...researchers.map(mood), ...['r-1', 'r-2', ...others].map(assessment)];
    const posted = await app.request('POST', '/v1/events', { body: { events } });
    if (posted.body.accepted !== events.length) throw new Error(`the runtime took ${posted.body.accepted} of ${events.length} events`);
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('starts with the whole budget', async () => {
    const budget = await app.request('GET', '/v1/privacy/budget');
    expect(budget.body).toEqual({
      datasets: [{ dataset: 'research', composition: 'sequential', budget: { epsilon: 1, delta: 0.000001 }, spent: { epsilon: 0, delta: 0 }, remaining: { epsilon: 1, delta: 0.000001 }, releases: 0 }],
    });
  });

  it('suppresses, spending nothing, a release over fewer than k research-consented users, whoever else sent the metric', async () => {
    const answer = await exportOf({ metric: 'assessment.score', epsilon: 0.5 });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ dataset: 'research', metric: 'assessment.score', suppressed: [{ reason: 'k_anonymity', message: `fewer than ${K} research-consented users contributed to this metric over the range` }] });
    expect(answer.body.count).toBeUndefined();
    expect((await app.request('GET', '/v1/privacy/budget')).body.datasets[0].releases).toBe(0);
  });

  it('releases a noisy count and sum with their noise, standard deviations and 95 % intervals (and a mean where the count carries it), and records the spend', async () => {
    const answer = await exportOf({ metric: 'mood.valence', epsilon: 0.3, maxContributionsPerUser: 1 });

    expect(answer.status).toBe(200);
    // Count: discrete Laplace of scale 1 / 0.15; sum: Laplace of scale 1 / 0.15 on a grid of 2^-9.
    const countScale = 1 / 0.15;
    const expectedSd = Math.sqrt((2 * Math.exp(-1 / countScale)) / (1 - Math.exp(-1 / countScale)) ** 2);
    expect(answer.body).toMatchObject({
      metric: 'mood.valence',
      mechanism: 'laplace',
      spent: { epsilon: 0.3, delta: 0 },
      bounds: { lower: -1, upper: 1 },
      count: { value: expect.any(Number), standardDeviation: expect.closeTo(expectedSd, 9), noise: { distribution: 'discrete_laplace', scale: countScale }, interval: { confidence: 0.95 } },
      sum: { value: expect.any(Number), granularity: 2 ** -9, noise: { distribution: 'discrete_laplace', scale: countScale } },
      budgetRemaining: { epsilon: 0.7, delta: 0.000001 },
    });
    // Four users at ε 0.15 for the count: a mean comes out only if the noise made the count look far larger.
    expect(answer.body.mean === undefined).toBe(answer.body.suppressed.some((each: { reason: string; figure?: string }) => each.reason === 'insufficient_data' && each.figure === 'mean'));
    expect(Number.isInteger(answer.body.count.value) && answer.body.count.value >= 0).toBe(true);
    expect(Number.isInteger(answer.body.sum.value / 2 ** -9)).toBe(true);
  });

  it('refuses with 403 privacy_budget_exhausted a release that would overspend, and says what is left', async () => {
    expect((await exportOf({ metric: 'events', epsilon: 0.3 })).status).toBe(200);
    expect((await exportOf({ metric: 'mood.valence', epsilon: 0.3, mechanism: 'gaussian', delta: 0.0000005 })).status).toBe(200);

    const refused = await exportOf({ metric: 'events', epsilon: 0.2 });
    const budget = await app.request('GET', '/v1/privacy/budget');

    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'privacy_budget_exhausted', details: { remaining: { epsilon: 0.1, delta: 0.0000005 } } });
    expect(budget.body.datasets[0]).toMatchObject({ spent: { epsilon: 0.9, delta: 0.0000005 }, remaining: { epsilon: 0.1, delta: 0.0000005 }, releases: 3 });
  });

  it.each([
    [{ metric: 'mood.valence', epsilon: 0 }, 'epsilon'],
    [{ metric: 'active_users', epsilon: 0.1 }, 'metric'],
    [{ metric: 'mood.valence', epsilon: 0.1, mechanism: 'gaussian' }, 'delta'],
    [{ metric: 'mood.valence', epsilon: 0.1, from: range.to, to: range.from }, 'to'],
    [{ metric: 'mood.valence', epsilon: 0.1, reason: 'x' }, 'reason'],
  ])('refuses %j with 400 naming %s', async (body, field) => {
    const answer = await exportOf(body);

    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_request', details: { field } });
  });
});

describe('the research report (epsilon 1, k 3)', () => {
  let app: TestRuntime;
  const body = { kind: 'research', ...range, epsilon: 0.4 };

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K), PRIVACY_BUDGET_EPSILON: '1' });
    const researchers = ['r-1', 'r-2', 'r-3'];
    await app.consent(researchers, RESEARCH);
    await app.request('POST', '/v1/events', { body: { events: [...researchers.map(mood), assessment('r-1')] } });
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('releases every research metric with k users, lists the rest as suppressed, and spends the report epsilon once', async () => {
    const created = await app.request('POST', '/v1/reports', { body });
    const budget = await app.request('GET', '/v1/privacy/budget');
    const { page, text } = await app.madeReport(created.body.id as string);

    expect([created.status, created.body.status]).toEqual([202, 'queued']);
    expect(page).toMatchObject({ kind: 'research', createdBy: 'dev', formats: ['csv'], files: [{ format: 'csv', contentType: 'text/csv; charset=utf-8' }], summary: { released: ['events', 'mood.valence'] } });
    expect(page.summary.suppressed).toEqual(
      expect.arrayContaining([expect.objectContaining({ metric: 'assessment.score', reason: 'k_anonymity' }), expect.objectContaining({ metric: 'sessions', reason: 'k_anonymity' })]),
    );
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('metric,count,count_sd,count_low,count_high,sum,sum_sd,sum_low,sum_high,mean,mean_sd,mean_low,mean_high,clamped_to,suppressed');
    // Count, sum, each with its standard deviation and interval; a mean, or none with insufficient_data.
    expect(lines.find((line) => line.startsWith('mood.valence,'))).toMatch(/^mood\.valence,\d+,[\d.]+,\d+,\d+,(-?[\d.e-]+,){4}((-?[\d.e-]+,){4}-1\.\.1,|,,,,-1\.\.1,insufficient_data)$/);
    expect(lines.find((line) => line.startsWith('assessment.score,'))).toBe('assessment.score,,,,,,,,,,,,,,k_anonymity');
    expect(budget.body.datasets[0]).toMatchObject({ spent: { epsilon: 0.4 }, releases: 1 });
  });

  it('refuses a report that would overspend, and answers 404 for a report that does not exist and 400 for a bad id', async () => {
    await app.request('POST', '/v1/reports', { body });

    const refused = await app.request('POST', '/v1/reports', { body });
    const missing = await app.request('GET', '/v1/reports/00000000-0000-4000-8000-000000000000');
    const bad = await app.request('GET', '/v1/reports/not-an-id');

    expect([refused.status, refused.body.error.code]).toEqual([403, 'privacy_budget_exhausted']);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    expect([bad.status, bad.body.error.details]).toEqual([400, { parameter: 'id' }]);
  });
});
