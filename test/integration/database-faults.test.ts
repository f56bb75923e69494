import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describeWithServices, freshPostgresUrl, freshRedisPrefix, urls } from '../support/services';
import { countedEvents, startTestRuntime, type TestRuntime } from '../support/runtime';
import { makeEvent } from '../support/events';
import { waitFor } from '../support/wait';

const USERS = 12;
const BATCH = 20;
const DAY = 86_400_000;

/** Events spread over USERS users, each with its own eventId. */
const batchOf = (n: number) => Array.from({ length: BATCH }, (_, i) => makeEvent({ userId: `fault-user-${(n * BATCH + i) % USERS}` }));

/**
 * The runtime in its PostgreSQL mode (stream, checkpoints, rollups all in PostgreSQL; live counters
 * in Redis) while its connections are terminated under load, then while PostgreSQL refuses it
 * altogether. The runtime logs in as a role of its own, so the test can refuse that role's logins
 * and terminate its connections without touching anyone else's.
 */
describeWithServices(['postgres', 'redis'], 'the runtime when PostgreSQL terminates or refuses its connections', () => {
  const role = `fault_${randomBytes(4).toString('hex')}`;
  const applicationName = `faults-${role}`;
  let admin: Client;
  let app: TestRuntime;
  let dropSchema: () => Promise<void>;

  /** Every event answered 202 (not among the rejected), by id; the others go again until taken. */
  const accepted = new Set<string>();
  const pending: Record<string, unknown>[] = [];

  async function post(events: Record<string, unknown>[]): Promise<void> {
    const answer = await app.request('POST', '/v1/events', { body: { events } });
    if (answer.status === 503) {
      pending.push(...events);
      return;
    }
    // Anything else but 202 (a 500, a reset) fails here: an outage is no excuse for either.
    expect(answer.status).toBe(202);
    const refused = new Set((answer.body.rejected as { index: number; code: string }[]).map((r) => {
      expect(r.code).toBe('stream_unavailable');
      return r.index;
    }));
    events.forEach((event, index) => (refused.has(index) ? pending.push(event) : accepted.add(String(event['eventId']))));
  }

  const terminate = () => admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  const health = () => app.request('GET', '/health', { token: null });

  beforeAll(async () => {
    const postgres = await freshPostgresUrl();
    const schema = new URL(postgres.url).searchParams.get('options')!.split('=')[1]!;
    admin = new Client({ connectionString: urls.postgres });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${role}`);
    dropSchema = async () => {
      await postgres.drop();
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    };
    const url = new URL(postgres.url);
    url.username = role;
    app = await startTestRuntime({
      DATABASE_URL: url.toString(),
      DATABASE_APPLICATION_NAME: applicationName,
      REDIS_URL: urls.redis,
      REDIS_KEY_PREFIX: freshRedisPrefix(),
      K_ANONYMITY: '3',
    });
    // Up front: consent is audited, and the audit trail withholds answers while PostgreSQL is out.
    await app.consent(Array.from({ length: USERS }, (_, user) => `fault-user-${user}`));
  });
  afterAll(async () => {
    await admin?.query(`ALTER ROLE ${role} LOGIN`).catch(() => undefined);
    await app?.stop();
    await dropSchema?.();
    await admin?.end();
  });

  it('survives its connections terminated mid-ingest, without restarting the aggregator thread', async () => {
    for (let n = 0; n < 12; n += 1) {
      // Terminated while the previous batches are being aggregated and detected, and this one put.
      await Promise.all([post(batchOf(n)), terminate()]);
    }

    const { body } = await waitFor(health, (answer) => answer.status === 200);
    // The thread lived through it: no exit, no restart.
    expect(body.parts.aggregator.thread.lastExit).toBeUndefined();
    expect(body.parts.aggregator.thread).toMatchObject({ running: true, restarts: 0 });
    expect(accepted.size).toBeGreaterThan(0);
  });

  it('answers 503 on /health while PostgreSQL refuses it, keeps answering ingest, and 200 once it is back', async () => {
    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    await terminate();
    let down;
    try {
      down = await waitFor(health, (answer) => answer.status === 503);
      // Ingest answers the client (503, or 202 naming the events to send again), never a 500.
      await post(batchOf(100));
      await post(batchOf(101));
      // A read answers 503 `unavailable`: the request may be sent again, unlike a 500's.
      const read = await app.request('GET', `/v1/metrics/events?from=${new Date(Date.now() - DAY).toISOString()}&to=${new Date().toISOString()}&interval=day`);
      expect(read).toEqual({ status: 503, body: { error: { code: 'unavailable', message: 'a store is unavailable; retry shortly' } } });
    } finally {
      await admin.query(`ALTER ROLE ${role} LOGIN`);
    }
    expect(down.body).toMatchObject({ status: 'down', parts: { database: { status: 'down' } } });

    const up = await waitFor(health, (answer) => answer.status === 200);
    expect(up.body.status).toBe('ok');
    expect(up.body.parts.aggregator.thread.lastExit).toBeUndefined();
    expect(up.body.parts.aggregator.thread).toMatchObject({ running: true, restarts: 0 });
  });

  it('counts every event answered 202 exactly once, the ones sent again after the faults included', async () => {
    for (let attempt = 0; pending.length > 0 && attempt < 20; attempt += 1) await post(pending.splice(0));
    expect(pending).toEqual([]);
    const counted = await countedEvents(app);
    expect(counted).toBe(accepted.size);
    expect(accepted.size).toBe(14 * BATCH);
  });
});
