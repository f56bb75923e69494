import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

/**
 * Weeks, months and local days through the public API of the embedded runtime, and the
 * catalogue a client learns the metrics from. Asia/Tokyo (UTC+9, no daylight saving) splits
 * yesterday's UTC day at 15:00Z: six people send a mood at 14:30Z, on yesterday's local date,
 * and six at 15:30Z, on today's. Daylight-saving days are tested below the API (unit and
 * contract suites), where their dates can be chosen.
 */
const K = 5;
const DAY = 86_400_000;
const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY;
const dateOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);
const people = (prefix: string) => Array.from({ length: 6 }, (_, i) => `${prefix}-${i}`);
const mood = (userId: string, at: number) => makeEvent({ userId, occurredAt: new Date(at).toISOString(), attributes: { valence: 0.5, arousal: 0.5 } }, 'mood.reported');
const range = `from=${new Date(yesterday).toISOString()}&to=${new Date(yesterday + DAY).toISOString()}`;

describe('calendar intervals and time zones through the API', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    const events = [...people('evening').map((id) => mood(id, yesterday + 14.5 * 3_600_000)), ...people('night').map((id) => mood(id, yesterday + 15.5 * 3_600_000))];
    const posted = await app.postEvents(events);
    if (posted.body.accepted !== events.length) throw new Error(`the runtime took ${posted.body.accepted} of ${events.length} events`);
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  const points = async (query: string) => {
    const response = await app.request('GET', `/v1/metrics/mood.valence?${query}`);
    expect(response.status).toBe(200);
    return response.body.series.flatMap((s: { points: { t: string; count: number }[] }) => s.points.map(({ t, count }) => ({ t, count })));
  };

  it('puts local days on the zone calendar, each t the local midnight with its offset', async () => {
    const response = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=day&timeZone=Asia/Tokyo`);
    expect(response.body).toMatchObject({ interval: 'day', timeZone: 'Asia/Tokyo', from: `${dateOf(yesterday)}T00:00:00+09:00`, to: `${dateOf(yesterday + 2 * DAY)}T00:00:00+09:00`, suppressed: [] });
    expect(await points(`${range}&interval=day&timeZone=Asia/Tokyo`)).toEqual([
      { t: `${dateOf(yesterday)}T00:00:00+09:00`, count: 6 },
      { t: `${dateOf(yesterday + DAY)}T00:00:00+09:00`, count: 6 },
    ]);
    // The same events on the UTC calendar: one day.
    expect(await points(`${range}&interval=day`)).toEqual([{ t: `${dateOf(yesterday)}T00:00:00Z`, count: 12 }]);
  });

  it('answers ISO weeks from Monday and months from the first', async () => {
    const monday = yesterday - ((new Date(yesterday).getUTCDay() + 6) % 7) * DAY;
    expect(await points(`${range}&interval=week`)).toEqual([{ t: `${dateOf(monday)}T00:00:00Z`, count: 12 }]);
    expect(await points(`${range}&interval=month`)).toEqual([{ t: `${dateOf(yesterday).slice(0, 8)}01T00:00:00Z`, count: 12 }]);
  });

  it.each([
    ['an unknown zone', `${range}&interval=day&timeZone=Mars/Olympus_Mons`, 'timeZone', /unknown time zone/],
    ['a zone half an hour off the stored hours', `${range}&interval=day&timeZone=Asia/Kolkata`, 'timeZone', /not a whole number of hours/],
    ['an interval there is none of', `${range}&interval=fortnight`, 'interval', /minute, hour, day, week, month/],
    ['local months over more hours than are read', `from=2025-01-01T00:00:00Z&to=2026-06-01T00:00:00Z&interval=month&timeZone=Europe/London`, 'to', /summed from hours/],
  ])('refuses %s with a 400 naming the parameter', async (_, query, parameter, message) => {
    const response = await app.request('GET', `/v1/metrics/mood.valence?${query}`);
    expect([response.status, response.body.error.code, response.body.error.details]).toEqual([400, 'invalid_parameter', { parameter }]);
    expect(response.body.error.message).toMatch(message);
  });

  it('lists the catalogue, and every metric it lists answers grouped by every dimension it lists', async () => {
    const response = await app.request('GET', '/v1/metrics');
    expect(response.status).toBe(200);
    const metrics = response.body.metrics as { name: string; kind: string; unit: string; description: string; dimensions: string[] }[];
    expect(metrics.find((metric) => metric.name === 'choice.response_time')).toEqual({
      name: 'choice.response_time',
      kind: 'distribution',
      unit: 'ms',
      description: 'choice.made responseTimeMs',
      dimensions: ['choiceType', 'scenarioId'],
    });
    expect(new Set(metrics.map((metric) => metric.kind))).toEqual(new Set(['counter', 'distribution', 'distinct']));
    for (const metric of metrics) {
      const answer = await app.request('GET', `/v1/metrics/${metric.name}?${range}&interval=week&groupBy=${metric.dimensions.join(',')}`);
      expect([metric.name, answer.status, answer.body.groupBy]).toEqual([metric.name, 200, metric.dimensions]);
    }
  });
});
