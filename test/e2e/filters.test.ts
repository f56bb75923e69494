import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

/**
 * `filter` through the public API of the embedded runtime. Yesterday at 10:xx UTC, sessions of
 * three scenarios on two platforms, each group large enough to be released at k = 3:
 * forest-path on iOS (5 people) and Android (4), lake-dawn on iOS (3), night-sky on Android (6).
 */
const K = 3;
const DAY = 86_400_000;
const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY;
const GROUPS = [
  ['forest-path', 'ios', 5],
  ['forest-path', 'android', 4],
  ['lake-dawn', 'ios', 3],
  ['night-sky', 'android', 6],
] as const;
const range = `from=${new Date(yesterday).toISOString()}&to=${new Date(yesterday + DAY).toISOString()}`;

describe('filters through the API', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    const events = GROUPS.flatMap(([scenarioId, platform, people], g) =>
      Array.from({ length: people }, (_, i) =>
        makeEvent(
          { userId: `${scenarioId}-${platform}-${i}`, occurredAt: new Date(yesterday + 10 * 3_600_000 + (g * 10 + i) * 60_000).toISOString(), context: { platform }, attributes: { scenarioId, channel: 'app' } },
          'session.started',
        ),
      ),
    );
    const posted = await app.postEvents(events);
    if (posted.body.accepted !== events.length) throw new Error(`the runtime took ${posted.body.accepted} of ${events.length} events`);
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  const sessions = async (query: string) => {
    const response = await app.request('GET', `/v1/metrics/sessions?${range}&${query}`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const countsOf = (answer: { series: { group: Record<string, string>; points: { count: number }[] }[] }) =>
    answer.series.map((s) => [s.group, s.points.reduce((n, p) => n + p.count, 0)]);

  it('sums the selected values of a dimension not grouped by, and echoes the filter', async () => {
    const answer = await sessions('interval=day&filter=scenarioId:forest-path,scenarioId:night-sky');
    expect(answer).toMatchObject({ groupBy: [], filter: { scenarioId: ['forest-path', 'night-sky'] }, suppressed: [] });
    expect(countsOf(answer)).toEqual([[{}, 15]]);
    expect(answer.series[0].points[0].users).toBe(15);
  });

  it('filters on one dimension and groups by another, every dimension of the filter applying', async () => {
    expect(countsOf(await sessions('interval=hour&groupBy=platform&filter=scenarioId:forest-path'))).toEqual([
      [{ platform: 'android' }, 4],
      [{ platform: 'ios' }, 5],
    ]);
    expect(countsOf(await sessions('interval=hour&filter=scenarioId:forest-path,platform:ios'))).toEqual([[{}, 5]]);
  });

  it('selects groups where the filtered dimension is also grouped by', async () => {
    expect(countsOf(await sessions('interval=day&groupBy=scenarioId&filter=scenarioId:lake-dawn,scenarioId:night-sky'))).toEqual([
      [{ scenarioId: 'lake-dawn' }, 3],
      [{ scenarioId: 'night-sky' }, 6],
    ]);
  });

  it('filters local days and weeks of a time zone as it filters UTC ones', async () => {
    // 10:xx UTC is yesterday's evening in Tokyo (UTC+9) and yesterday's morning in New York.
    for (const [timeZone, interval] of [['Asia/Tokyo', 'day'], ['America/New_York', 'week']]) {
      const answer = await sessions(`interval=${interval}&timeZone=${timeZone}&filter=platform:android`);
      expect([answer.timeZone, countsOf(answer)]).toEqual([timeZone, [[{}, 10]]]);
    }
  });

  it('answers an empty series for a value no event holds', async () => {
    expect(await sessions('interval=day&filter=scenarioId:no-such-scenario')).toMatchObject({ series: [], suppressed: [] });
  });

  it.each([
    ['an unknown dimension', 'interval=day&filter=device:pixel', /unknown dimension 'device' for metric sessions; allowed: scenarioId, platform/],
    ['a dimension of another metric', 'interval=day&filter=type:session.started', /unknown dimension 'type'/],
    ['a term without a colon', 'interval=day&filter=platform:ios,android', /'android' is not dimension:value/],
    ['a value that is no identifier', 'interval=day&filter=platform:i%20os', /must be an identifier/],
    ['a value that looks like personal data', 'interval=day&filter=scenarioId:jane.doe@example.com', /looks like personal data/],
  ])('refuses %s with a 400 naming filter', async (_, query, message) => {
    const response = await app.request('GET', `/v1/metrics/sessions?${range}&${query}`);
    expect([response.status, response.body.error.code, response.body.error.details]).toEqual([400, 'invalid_parameter', { parameter: 'filter' }]);
    expect(response.body.error.message).toMatch(message);
  });
});
