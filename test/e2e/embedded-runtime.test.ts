import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { makeEvent } from '../support/events';

const HOUR = 3_600_000;
const hourStart = Math.floor((Date.now() - 2 * HOUR) / HOUR) * HOUR;
const range = `from=${new Date(hourStart).toISOString()}&to=${new Date(hourStart + 2 * HOUR).toISOString()}`;
const moods = (users: number, minute: number) =>
  Array.from({ length: users }, (_, user) => makeEvent({ userId: `person-${user}`, occurredAt: new Date(hourStart + minute * 60_000).toISOString() }, 'mood.reported'));
const totalCount = (body: { series: { points: { count: number }[] }[] }) => body.series.flatMap((s) => s.points).reduce((sum, p) => sum + p.count, 0);

/** The default mode of `npm start`: PGlite, the embedded stream and the in-process live store. */
describe('the embedded runtime', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: '3' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers /health and serves the OpenAPI document without a token', async () => {
    expect(await app.request('GET', '/health', { token: null })).toEqual({ status: 200, body: { status: 'ok' } });
    const openapi = await app.request('GET', '/openapi.json', { token: null });
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/metrics/{metric}']));
  });

  it('counts posted events and keeps them across a restart', async () => {
    await app.request('POST', '/v1/events', { body: { events: moods(4, 10) } });
    await app.runtime.drain();

    await app.restart();
    const metric = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour`);

    expect(metric.status).toBe(200);
    expect(metric.body.series[0].points[0]).toMatchObject({ count: 4, users: 4 });
  });

  it('processes after a restart the events it answered 202 for but had not aggregated yet', async () => {
    const posted = await app.request('POST', '/v1/events', { body: { events: moods(5, 70) } });
    // Stop at once: the poller may or may not have run; the stream table holds what was accepted.
    await app.restart();
    await app.runtime.drain();

    expect(posted.body.accepted).toBe(5);
    const metric = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour`);
    expect(totalCount(metric.body)).toBe(9);
  });
});
