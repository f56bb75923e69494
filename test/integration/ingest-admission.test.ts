import { Client } from 'pg';
import { ADMISSION_BOUNDS_MS } from '../../functions/local/admission';
import { describeWithServices, freshPostgresUrl } from '../support/services';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { makeEvent } from '../support/events';
import { waitFor } from '../support/wait';

const PATIENT = { attempts: 600, everyMs: 200 };

/**
 * Ingest held back by a consumer that stalls for real: the runtime on PostgreSQL, where another
 * session holds the lock on the detect consumer's checkpoint row (as in detect-lag.test.ts), so
 * the records behind it age past the admission bound.
 */
describeWithServices(['postgres'], 'ingest admission behind a stalled consumer', () => {
  let app: TestRuntime;
  let dropSchema: () => Promise<void>;
  let locker: Client;
  // One user throughout: the record that cannot be acknowledged lands on the shard whose checkpoint row is locked.
  const body = () => JSON.stringify({ events: [makeEvent({ userId: 'admission-user' })] });
  const post = () => fetch(`${app.runtime.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${app.runtime.tokens.devToken}` }, body: body() });
  const detectAgeMs = async () => ((await (await fetch(`${app.runtime.url}/health`)).json()) as { parts: { detectLag: { oldestAgeMs: number } } }).parts.detectLag.oldestAgeMs;

  beforeAll(async () => {
    const postgres = await freshPostgresUrl();
    dropSchema = postgres.drop;
    app = await startTestRuntime({ DATABASE_URL: postgres.url });
    locker = new Client({ connectionString: postgres.url });
    await locker.connect();
    await app.consent(['admission-user']);
  });
  afterAll(async () => {
    await locker?.end();
    await app?.stop();
    await dropSchema?.();
  });

  it('answers 429 with Retry-After while the detect consumer is over its bound, storing nothing, and accepts again once it catches up', async () => {
    // Prepare: a first record through, so the consumer's checkpoint row exists.
    expect((await post()).status).toBe(202);
    await app.runtime.detect();

    // Act: the checkpoint row locked, a record the consumer takes but cannot acknowledge, left to age.
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM checkpoints WHERE consumer = 'detect' FOR UPDATE`);
    let refused: Response;
    try {
      expect((await post()).status).toBe(202);
      await waitFor(detectAgeMs, (age) => age > ADMISSION_BOUNDS_MS['detect']!, PATIENT);
      refused = await post();
    } finally {
      await locker.query('ROLLBACK');
    }
    await app.runtime.detect();
    const readmitted = await waitFor(post, (response) => response.status === 202, PATIENT);

    // Assess: refused whole, in the envelope; of the posts, the three answered 202 are all that was accepted.
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ingest_backlog');
    expect(readmitted.status).toBe(202);
    const metrics = await (await fetch(`${app.runtime.url}/metrics`)).text();
    expect(metrics).toMatch(/^ingest_throttled_total\{consumer="detect"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^events_accepted_total 3$/m);
  }, 360_000);
});
