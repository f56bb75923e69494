import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlEventStream } from '../../functions/adapters/pg/sql-stream';
import { SqlRecordKeyStore } from '../../functions/adapters/pg/sql-record-keys';
import { pseudonymisers } from '../../functions/handlers/ingest';
import { localPepper } from '../../functions/local/pepper';
import { makeIngest } from '../../functions/use-cases/ingest';
import { DEMO_CONSENT } from '../../functions/local/consent-client';
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
    const health = await app.request('GET', '/health', { token: null });
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    // Embedded: no Redis and no emulator to report.
    expect(Object.keys(health.body.parts).sort()).toEqual(['aggregateLag', 'aggregator', 'database', 'detectLag', 'detector']);
    const openapi = await app.request('GET', '/openapi.json', { token: null });
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/metrics/{metric}']));
  });

  it('counts posted events and keeps them across a restart', async () => {
    await app.postEvents(moods(4, 10));
    await app.runtime.drain();

    await app.restart();
    const metric = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour`);

    expect(metric.status).toBe(200);
    expect(metric.body.series[0].points[0]).toMatchObject({ count: 4, users: 4 });
  });

  it('processes after a restart the events it answered 202 for but had not aggregated yet', async () => {
    const posted = await app.postEvents(moods(5, 70));
    // Stop at once: the poller may or may not have run; the stream table holds what was accepted.
    await app.restart();
    await app.runtime.drain();

    expect(posted.body.accepted).toBe(5);
    const metric = await app.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour`);
    expect(totalCount(metric.body)).toBe(9);
  });

  it('answers the same once the roll-up has folded the minutes into hours and days', async () => {
    await app.postEvents([...moods(3, 95), ...moods(4, 100)]);
    await app.runtime.drain();
    const queries = ['mood.valence', 'active_users'].flatMap((metric) => ['hour', 'day'].map((interval) => `/v1/metrics/${metric}?${range}&interval=${interval}`));
    const before = await Promise.all(queries.map((path) => app.request('GET', path)));
    expect(totalCount(before[0]!.body)).toBe(16);

    await app.runtime.rollUp();
    expect(await Promise.all(queries.map((path) => app.request('GET', path)))).toEqual(before);
  });

  it('takes over the events an earlier version left in the stream table of its data folder', async () => {
    // An earlier version kept the embedded stream in the embedded database, DATA_DIR/stream.
    const dataDir = mkdtempSync(join(tmpdir(), 'analytics-earlier-'));
    const db = await embeddedDatabase(join(dataDir, 'stream'));
    await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
    const ingest = makeIngest({
      stream: new SqlEventStream(db, { streamName: 'earlier', shardCount: 2 }),
      // That version had no consent registry.
      consent: { getMany: async (subjects) => new Map(subjects.map((subject) => [subject, { subject, scopes: DEMO_CONSENT, updatedAt: '' }])) },
      keys: new SqlRecordKeyStore(db),
      pseudonymise: pseudonymisers(localPepper(dataDir, undefined)),
      clock: { now: () => new Date() },
      sleep: async () => undefined,
    });
    expect((await ingest(moods(6, 30))).accepted).toBe(6);
    await db.close();

    const upgraded = await startTestRuntime({ DATA_DIR: dataDir, STREAM_NAME: 'earlier', K_ANONYMITY: '3' });
    try {
      await upgraded.runtime.drain();
      const metric = await upgraded.request('GET', `/v1/metrics/mood.valence?${range}&interval=hour`);
      expect(totalCount(metric.body)).toBe(6);
      expect(existsSync(join(dataDir, 'stream-log'))).toBe(true);
    } finally {
      await upgraded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
