import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DEFAULT_RULES } from '../../functions/domain/alerting/rules';
import { describeWithServices, freshPostgresUrl } from '../support/services';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { makeEvent } from '../support/events';
import { waitFor } from '../support/wait';

// The rule cache (5 s), the lag watch (every 5 s) and the monitor stack up; on a loaded 2-core
// machine 30 s was once not enough. Waiting ends as soon as the state comes.
const PATIENT = { attempts: 600, everyMs: 200 };

type AlertView = { rule: string; severity: string; status: string; subject: string; notifications: { kind: string; channel: string; status: string }[] };

/**
 * A detect consumer that stalls for real: the runtime on PostgreSQL, where another session holds
 * the lock on the detect consumer's checkpoint row (as a stuck migration or a forgotten console
 * transaction would), so its batch cannot be acknowledged and the records behind it age.
 */
describeWithServices(['postgres'], 'a stalled detect consumer', () => {
  let app: TestRuntime;
  let dropSchema: () => Promise<void>;
  let locker: Client;
  const detectLag = async () => ((await app.request('GET', '/v1/alerts')).body.alerts as AlertView[]).find((alert) => alert.rule === 'detect-lag');
  // One user throughout: a user's records share a partition key, so the record that cannot be
  // acknowledged lands on the shard whose checkpoint row is locked (another user's could land on a
  // shard the lock does not touch, and be acknowledged at once).
  const post = () => app.request('POST', '/v1/events', { body: { events: [makeEvent({ userId: 'lag-user' })] } });

  beforeAll(async () => {
    const postgres = await freshPostgresUrl();
    dropSchema = postgres.drop;
    app = await startTestRuntime({ DATABASE_URL: postgres.url, K_ANONYMITY: '3' });
    locker = new Client({ connectionString: postgres.url });
    await locker.connect();
    await app.consent(['lag-user']);
  });
  afterAll(async () => {
    await locker?.end();
    await app?.stop();
    await dropSchema?.();
  });

  it('pages as a critical alert on every channel once its lag passes the detect-lag rule, and resolves when it catches up', async () => {
    // Prepare: a first record through, so the consumer's checkpoint row exists; then, as the
    // shipped rule pages at 30 s and resolves after 5 minutes clear (flap control, tested in
    // test/unit/alerting/rule-engine.test.ts), an operator's lower threshold and no clear time
    // keep the test short.
    await post();
    await app.runtime.detect();
    expect(await detectLag()).toBeUndefined();
    const rule = DEFAULT_RULES.find((r) => r.id === 'detect-lag')!;
    expect(rule.clearForSec).toBe(300);
    expect((await app.request('PUT', '/v1/alert-rules', { body: { rules: [{ ...rule, value: 2, clearForSec: 0 }] } })).status).toBe(200);

    // Act: the checkpoint row locked, then a record the consumer takes but cannot acknowledge.
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM checkpoints WHERE consumer = 'detect' FOR UPDATE`);
    let firing: AlertView | undefined;
    try {
      await post();
      firing = await waitFor(detectLag, (alert) => alert?.status === 'firing', PATIENT);
    } finally {
      await locker.query('ROLLBACK');
    }

    // Assess
    expect(firing).toMatchObject({ severity: 'critical', subject: 'series:stream.detect' });
    const notified = await waitFor(detectLag, (alert) => (alert?.notifications.length ?? 0) >= 3, PATIENT);
    expect(notified!.notifications.filter((n) => n.kind === 'firing').map((n) => [n.channel, n.status]).sort()).toEqual([
      ['dashboard', 'delivered'],
      ['email', 'delivered'],
      ['sns', 'delivered'],
    ]);
    const outbox = readFileSync(join(app.dataDir, 'alerts', 'outbox.jsonl'), 'utf8');
    expect(outbox).toContain('detect-lag');
    expect((await waitFor(detectLag, (alert) => alert?.status === 'resolved', PATIENT))!.severity).toBe('critical');
  }, 360_000);
});
