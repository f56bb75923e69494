import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const K = 3;
const DAY = 86_400_000;
// The Monday (UTC) three weeks before this week's: weeks 0, 1 and 2 from it have ended.
const thisMonday = Math.floor((Date.now() / DAY - 4) / 7) * 7 * DAY + 4 * DAY;
const week0 = thisMonday - 21 * DAY;
const day = (n: number) => new Date(week0 + n * DAY + 10 * 3_600_000).toISOString();

/**
 * Twelve users: six on iOS first seen in week 0, all back in week 1 and three of them in week 2;
 * two on Android first seen in week 1; four on the web first seen in week 2.
 */
function population(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const on = (userId: string, platform: string, days: number[]) => {
    for (const n of days) events.push(makeEvent({ userId, occurredAt: day(n), context: { platform } }, 'session.started'));
  };
  for (let i = 0; i < 6; i += 1) on(`ios-${i}`, 'ios', i < 3 ? [1, 8, 15] : [1, 9]);
  for (let i = 0; i < 2; i += 1) on(`android-${i}`, 'android', [8, 10]);
  for (let i = 0; i < 4; i += 1) on(`web-${i}`, 'web', [15, 16, 17].slice(0, 1 + (i % 3)));
  return events;
}

describe('cohorts through the embedded runtime', () => {
  let app: TestRuntime;
  const create = async (name: string, definition: object) => {
    const created = await app.request('POST', '/v1/cohorts', { body: { name, definition } });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const ios = { attribute: { platform: 'ios' } };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    const events = population();
    const posted = await app.postEvents(events);
    if (posted.body.accepted !== events.length) throw new Error(`the runtime took ${posted.body.accepted} of ${events.length} events`);
    await app.runtime.drain();
    ids['everyone'] = await create('everyone', { firstSeen: { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' } });
    ids['ios'] = await create('iOS', ios);
    ids['iosAgain'] = await create('iOS, first seen in week 0', { all: [ios, { firstSeen: { from: day(0), to: day(7) } }] });
    ids['android'] = await create('Android', { attribute: { platform: 'android' } });
    ids['web'] = await create('web', { attribute: { platform: 'web' } });
    ids['weeks01'] = await create('first seen in weeks 0 and 1', { firstSeen: { from: day(-1), to: day(13) } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('lists every cohort with its size, withholding the small and the one within k of an older one', async () => {
    const answer = await app.request('GET', '/v1/cohorts');
    const sizes = Object.fromEntries((answer.body.cohorts as { id: string; users: number | null }[]).map((cohort) => [cohort.id, cohort.users]));

    // weeks01 (8 users) is iOS (6) plus Android (2): shown beside iOS it would give Android away.
    expect(Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, sizes[id]]))).toEqual({ everyone: 12, ios: 6, iosAgain: 6, android: null, web: 4, weeks01: null });
    expect(answer.body.suppressed).toEqual([{ reason: 'k_anonymity' }]);
  });

  it("answers a cohort's week-N retention, withholding the rows and cells a small group would be known by", async () => {
    const ofIos = await app.request('GET', `/v1/cohorts/${ids['ios']}/retention`);
    expect(ofIos.body).toEqual({ cohort: ids['ios'], period: 'week', rows: [{ start: new Date(week0).toISOString().slice(0, 10), users: 6, retained: [1, 1, 0.5] }], suppressed: [] });

    // Rows of 6, 2 and 4 users: the 2 are withheld, and the 4 with them (everyone minus week 0 would be the 2).
    const ofEveryone = await app.request('GET', `/v1/cohorts/${ids['everyone']}/retention?periods=2`);
    expect(ofEveryone.body.rows).toEqual([{ start: new Date(week0).toISOString().slice(0, 10), users: 6, retained: [1, 1] }]);
    expect(ofEveryone.body.suppressed).toEqual([{ reason: 'k_anonymity' }]);

    const ofAndroid = await app.request('GET', `/v1/cohorts/${ids['android']}/retention`);
    expect(ofAndroid.body).toEqual({ cohort: ids['android'], period: 'week', rows: [], suppressed: [{ reason: 'k_anonymity' }] });
  });

  it('compares two cohorts per metric with the test, intervals, effect size and Holm-adjusted p-values', async () => {
    const answer = await app.request('GET', `/v1/cohorts/compare?a=${ids['ios']}&b=${ids['web']}&metric=daysActive,sessionsPerWeek`);

    expect(answer.status).toBe(200);
    expect(answer.body.a).toEqual({ id: ids['ios'], name: 'iOS' });
    const [daysActive] = answer.body.metrics as { metric: string; a: { users: number; mean: number; ci95: number[] }; b: { users: number; mean: number }; difference: Record<string, number | string> }[];
    expect(daysActive?.metric).toBe('daysActive');
    expect([daysActive?.a.users, daysActive?.a.mean, daysActive?.b.users, daysActive?.b.mean]).toEqual([6, 3 - 0.5, 4, (1 + 2 + 3 + 1) / 4]);
    expect(daysActive?.a.ci95[0]).toBeLessThan(2.5);
    expect(daysActive?.difference).toMatchObject({ estimate: 2.5 - 1.75, test: 'welch_t' });
    expect(daysActive?.difference['pAdjusted']).toBeGreaterThanOrEqual(daysActive?.difference['pValue'] as number);
    expect(answer.body.suppressed).toEqual([]);

    const withheld = await app.request('GET', `/v1/cohorts/compare?a=${ids['ios']}&b=${ids['android']}&metric=daysActive`);
    expect(withheld.body).toEqual({ a: { id: ids['ios'] }, b: { id: ids['android'] }, metrics: [], suppressed: [{ reason: 'k_anonymity' }] });
  });

  it.each([
    ['POST', '/v1/cohorts', { name: 'x', definition: { attribute: { platform: 'smartwatch' } } }, 'definition'],
    ['POST', '/v1/cohorts', { name: '', definition: ios }, 'name'],
    ['POST', '/v1/cohorts', { name: 'x', definition: ios, owner: 'me' }, 'owner'],
    ['GET', '/v1/cohorts/not-a-uuid/retention', undefined, 'id'],
    ['GET', '/v1/cohorts/COHORT/retention?periods=0', undefined, 'periods'],
    ['GET', '/v1/cohorts/COHORT/retention?period=month', undefined, 'period'],
    ['GET', '/v1/cohorts/COHORT/retention?userId=u', undefined, 'userId'],
    ['GET', '/v1/cohorts/compare?a=COHORT&b=COHORT&metric=salary', undefined, 'metric'],
    ['GET', '/v1/cohorts/compare?a=COHORT&metric=daysActive', undefined, 'b'],
  ])('%s %s is a 400 naming %s', async (method, path, body, field) => {
    const answer = await app.request(method, path.replaceAll('COHORT', ids['ios']!), { body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details?.field ?? answer.body.error.details?.parameter).toBe(field);
  });

  it('answers 404 for a cohort that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await app.request('GET', `/v1/cohorts/${missing}/retention`)).status).toBe(404);
    expect((await app.request('GET', `/v1/cohorts/compare?a=${missing}&b=${ids['ios']}&metric=daysActive`)).status).toBe(404);
  });
});
