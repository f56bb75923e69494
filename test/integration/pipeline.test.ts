import { Redis } from 'ioredis';
import { kinesisClient } from '../../functions/adapters/aws/clients';
import { KinesisEventStream } from '../../functions/adapters/aws/kinesis-stream';
import { describeWithServices, freshPostgresUrl, freshRedisPrefix, urls } from '../support/services';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { makeEvent } from '../support/events';

const HOUR = 3_600_000;
const base = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
const at = (hour: number, minute: number) => new Date(base + hour * HOUR + minute * 60_000).toISOString();
const iso = (epochMs: number) => new Date(epochMs).toISOString().replace('.000Z', 'Z');
const range = `from=${new Date(base).toISOString()}&to=${new Date(base + 3 * HOUR).toISOString()}`;

/** 12 users: each reports a mood in hour 0 and completes a session in hour 1; users 0-3 also start one. */
function traffic(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (let user = 0; user < 12; user += 1) {
    const userId = `patient-${user}`;
    events.push(makeEvent({ userId, occurredAt: at(0, user), attributes: { valence: user / 12, arousal: 0.5 } }, 'mood.reported'));
    events.push(makeEvent({ userId, occurredAt: at(1, user), attributes: { scenarioId: 'forest-path', durationSec: 100 * (user + 1), completed: true } }, 'session.ended'));
    if (user < 4) events.push(makeEvent({ userId, occurredAt: at(1, 30) }, 'session.started'));
  }
  return events;
}

describeWithServices(['postgres', 'redis', 'moto'], 'the pipeline through the local runtime on PostgreSQL, Redis and Kinesis (moto)', () => {
  let app: TestRuntime;
  let dropSchema: () => Promise<void>;
  const redisPrefix = freshRedisPrefix();

  beforeAll(async () => {
    const postgres = await freshPostgresUrl();
    dropSchema = postgres.drop;
    app = await startTestRuntime({ DATABASE_URL: postgres.url, REDIS_URL: urls.redis, REDIS_KEY_PREFIX: redisPrefix, AWS_ENDPOINT_URL: urls.moto, K_ANONYMITY: '5' });
  });
  afterAll(async () => {
    await app?.stop();
    await dropSchema?.();
  });

  const events = traffic();

  it('accepts a batch with 202 and reads back exact counts per hour and type', async () => {
    const posted = await app.postEvents(events);
    await app.runtime.drain();

    expect(posted).toEqual({ status: 202, body: { accepted: 28, rejected: [] } });
    const total = await app.request('GET', `/v1/metrics/events?${range}&interval=hour`);
    expect(total.status).toBe(200);
    expect(total.body.series[0].points.map((p: any) => [p.t, p.count, p.users])).toEqual([
      [iso(base), 12, 12],
      [iso(base + HOUR), 16, 12],
    ]);
    // Four users started sessions in hour 1: fewer than k = 5, so withheld, and other types with
    // them wherever the hour or the day minus the rest would be those four (which ones depends on
    // whether the hours share a UTC day). The answer says that something was withheld, not what.
    const metric = await app.request('GET', `/v1/metrics/events?${range}&interval=hour&groupBy=type`);
    expect(metric.status).toBe(200);
    const shown = metric.body.series.map((s: any) => s.group.type);
    expect(shown).not.toContain('session.started');
    expect(metric.body.series.flatMap((s: any) => s.points).every((p: any) => p.users >= 5)).toBe(true);
    expect(metric.body.suppressed).toEqual([{ reason: 'k_anonymity' }]);
  });

  it('answers distributions with sum, mean and quantiles, and no min or max', async () => {
    const metric = await app.request('GET', `/v1/metrics/session.duration?${range}&interval=day`);

    expect(metric.status).toBe(200);
    const [point] = metric.body.series[0].points;
    expect(point).toMatchObject({ count: 12, users: 12, sum: 7800, mean: 650 });
    expect(point).not.toHaveProperty('min');
    expect(point).not.toHaveProperty('max');
    expect(point.p50).toBeGreaterThanOrEqual(600 * 0.99);
    expect(point.p50).toBeLessThanOrEqual(700 * 1.01);
    expect(point.p95).toBeGreaterThanOrEqual(1100 * 0.99);
    expect(point.p95).toBeLessThanOrEqual(1200 * 1.01);
  });

  it('changes no figure when the same events are sent and streamed again', async () => {
    const before = await app.request('GET', `/v1/metrics/events?${range}&interval=minute`);

    const again = await app.postEvents(events);
    await app.runtime.drain();

    expect(again.body.accepted).toBe(28);
    expect(await app.request('GET', `/v1/metrics/events?${range}&interval=minute`)).toEqual(before);
  });

  it('answers the same once the roll-up has folded the minutes, and a replay after it changes nothing', async () => {
    const queries = [`/v1/metrics/events?${range}&interval=hour&groupBy=type`, `/v1/metrics/session.duration?${range}&interval=day`, `/v1/metrics/events?${range}&interval=minute`];
    const before = await Promise.all(queries.map((path) => app.request('GET', path)));

    await app.runtime.rollUp();
    expect(await Promise.all(queries.map((path) => app.request('GET', path)))).toEqual(before);
    await app.postEvents(events);
    await app.runtime.drain();
    expect(await Promise.all(queries.map((path) => app.request('GET', path)))).toEqual(before);
  });

  it('sends a poison record to the DLQ and still counts the rest of its batch', async () => {
    const stream = new KinesisEventStream(kinesisClient({ endpoint: urls.moto }), streamNameOf(app));
    // In hour 1, whose day always holds the twelve users' sessions: alone in hour 2, two users' events
    // start a day of their own whenever hour 2 is past midnight (runs between 01:00 and 02:00 UTC), and k = 5 withholds it.
    const good = makeEvent({ userId: 'patient-0', occurredAt: at(1, 50) }, 'engagement.heartbeat');
    const posted = await app.postEvents([good]);
    await stream.putRecords([{ partitionKey: 'poison', data: new TextEncoder().encode('{"not": "an event"') }]);
    const alsoGood = makeEvent({ userId: 'patient-1', occurredAt: at(1, 51) }, 'engagement.heartbeat');
    await app.postEvents([alsoGood]);

    await app.runtime.drain();

    expect(posted.body.accepted).toBe(1);
    const letters = await app.runtime.deadLetters.list(10);
    expect(letters.flatMap((letter) => letter.records.map((r) => r.partitionKey))).toEqual(['poison']);
    const metric = await app.request('GET', `/v1/metrics/events?${range}&interval=day`);
    // Summed: the three hours span midnight for three hours of every day.
    expect(metric.body.series[0].points.reduce((sum: number, p: any) => sum + p.count, 0)).toBe(28 + 2);
  });

  it('keeps live counters in Redis', async () => {
    const redis = new Redis(urls.redis);
    const realtime = await redis.hgetall(`${redisPrefix}performance:realtime`);
    await redis.quit();

    expect(Number(realtime['events_per_min'])).toBeGreaterThanOrEqual(1);
    expect(Number(realtime['active_users'])).toBeGreaterThanOrEqual(1);
    expect(realtime['avg_ingest_ms']).toMatch(/^\d+$/);
  });

  it.each([
    { input: 'malformed JSON', options: { rawBody: '{"events": [' }, status: 400, code: 'malformed_json' },
    { input: 'no events array', options: { body: { event: [] } }, status: 400, code: 'invalid_request' },
    { input: 'an empty events array', options: { body: { events: [] } }, status: 400, code: 'invalid_request' },
    { input: 'more than 500 events', options: { body: { events: Array.from({ length: 501 }, () => makeEvent()) } }, status: 400, code: 'invalid_request' },
    { input: 'a body over 1 MiB', options: { body: { events: [makeEvent({ padding: 'x'.repeat(1024 * 1024) })] } }, status: 413, code: 'payload_too_large' },
    { input: 'no token', options: { body: { events: [makeEvent()] }, token: null }, status: 401, code: 'unauthorized' },
    { input: 'a bad token', options: { body: { events: [makeEvent()] }, token: 'not-a-token' }, status: 401, code: 'unauthorized' },
  ])('answers $status $code to POST /v1/events with $input', async ({ options, status, code }) => {
    const response = await app.request('POST', '/v1/events', options);

    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });

  it('refuses an analyst token on POST /v1/events and an ingest token on GET /v1/metrics', async () => {
    const analyst = app.runtime.tokens.issue('analyst', 'a');
    const ingest = app.runtime.tokens.issue('ingest', 'i');

    expect((await app.request('POST', '/v1/events', { body: { events: [makeEvent()] }, token: analyst })).status).toBe(403);
    expect((await app.request('GET', `/v1/metrics/events?${range}&interval=hour`, { token: ingest })).status).toBe(403);
    expect((await app.request('GET', `/v1/metrics/events?${range}&interval=hour`, { token: analyst })).status).toBe(200);
  });

  it.each([
    ['/v1/metrics/nope?' + range + '&interval=hour', 'metric'],
    ['/v1/metrics/events?' + range + '&interval=fortnight', 'interval'],
    ['/v1/metrics/events?' + range + '&interval=week&timeZone=Mars/Olympus_Mons', 'timeZone'],
    ['/v1/metrics/events?from=yesterday&to=2026-11-20T00:00:00Z&interval=hour', 'from'],
    ['/v1/metrics/events?' + range + '&interval=hour&groupBy=scenarioId', 'groupBy'],
    ['/v1/metrics/events?' + range + '&interval=hour&colour=red', 'colour'],
  ])('answers GET %s with 400 naming %s', async (path, parameter) => {
    const response = await app.request('GET', path);

    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual({ parameter });
    expect(response.body.error.message).toMatch(new RegExp(`^${parameter}: `));
  });
});

function streamNameOf(app: TestRuntime): string {
  if (app.runtime.mode.streamName === undefined || !app.runtime.mode.stream.startsWith('kinesis')) throw new Error('the runtime is not on Kinesis');
  return app.runtime.mode.streamName;
}
