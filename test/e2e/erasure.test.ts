import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { makePseudonymiser } from '../../functions/domain/privacy/pseudonymise';
import { localPepper } from '../../functions/local/pepper';
import { postgresDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { SqlRecordKeyStore } from '../../functions/adapters/pg/sql-record-keys';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { describeWithServices, freshPostgresUrl, freshRedisPrefix, urls } from '../support/services';
import { dumpLmdb, dumpRedis, dumpTables, filesHolding, holding } from '../support/store-dump';

const at = new Date(Date.now() - 10 * 60_000).toISOString();
const hour = Math.floor(Date.parse(at) / 3_600_000) * 3_600_000;
const range = `from=${new Date(hour).toISOString()}&to=${new Date(hour + 3_600_000).toISOString()}&interval=hour`;
const USERS = ['erase-me', 'keep-1', 'keep-2'];
/** Carried only in the erased user's milestone event (goalId is no rollup dimension, so no aggregate keeps it). */
const CANARY = `canary-goal-${randomBytes(6).toString('hex')}`;

/**
 * A user with data in every store of the mode (consent, processed event ids, live sets, the
 * stream, a dead letter, an alert and the outbox), erased; then every store is read whole for
 * the pseudonym.
 */
async function eraseAndScan(app: TestRuntime, scan: (subject: string) => Promise<string[]>) {
  const consented = await app.request('PUT', '/v1/consent/erase-me', { body: { analytics: true, research: true, safety_monitoring: true } });
  const subject = consented.body.subject as string;
  // Research consent too, so the user also has values in the research dataset.
  await app.consent(USERS, { analytics: true, research: true, safety_monitoring: true });
  await app.request('POST', '/v1/events', { body: { events: USERS.flatMap((userId) => [makeEvent({ userId, occurredAt: at }), makeEvent({ userId, occurredAt: at }, 'session.started')]) } });
  // A crisis signal: an alert about the user, its rule condition and an entry in the dashboard feed.
  await app.request('POST', '/v1/events', {
    body: {
      events: [
        makeEvent({ userId: 'erase-me', occurredAt: at, attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal'),
        makeEvent({ userId: 'erase-me', occurredAt: at, attributes: { goalId: CANARY, milestone: 'breakthrough' } }, 'progress.milestone'),
      ],
    },
  });
  await app.runtime.drain();
  await app.runtime.detect();
  await app.runtime.deadLetters.send({
    consumer: 'aggregate',
    shardId: 'shardId-000000000000',
    firstSequenceNumber: '1',
    lastSequenceNumber: '2',
    reason: 'test: a failed batch holding the user and another',
    attempts: 3,
    records: [
      { sequenceNumber: '1', partitionKey: subject, data: Buffer.from(JSON.stringify({ subject })).toString('base64') },
      { sequenceNumber: '2', partitionKey: 'someone-else', data: Buffer.from('{}').toString('base64') },
    ],
  });
  const before = await scan(subject);

  const erased = await app.request('DELETE', '/v1/users/erase-me/data');
  const again = await app.request('DELETE', '/v1/users/erase-me/data');
  const refused = await app.request('POST', '/v1/events', { body: { events: [makeEvent({ userId: 'erase-me', occurredAt: at })] } });
  await app.runtime.drain();
  const metric = await app.request('GET', `/v1/metrics/events?${range}`);
  const audit = await app.request('GET', '/v1/audit?limit=5');
  return { subject, before, erased, again, refused, metric, audit };
}

function expectErased(result: Awaited<ReturnType<typeof eraseAndScan>>, after: string[]): void {
  const { subject, erased, again, refused, metric, audit } = result;
  expect(erased.status).toBe(200);
  expect(erased.body).toMatchObject({ subject, receiptId: expect.any(String), erasedAt: expect.any(String) });
  const counts = erased.body.removed.map((step: { store: string; count: number }) => [step.store, step.count]);
  expect(counts).toEqual([
    ['consent registry', 1],
    // 4 event ids, 6 research values (events and mood.valence, events and sessions, events, events) and the feature row.
    ['postgresql', 11],
    ['live store', 1],
    // The alert, the conditions of the rules that watched the user's signals, the feed entry.
    ['postgresql', 1],
    ['postgresql', expect.any(Number)],
    // The record of the crisis signal's intervention (its event carried no channel token), and the user's last mood.
    ['postgresql', 2],
    ['live store', 1],
    ['record keys', 1],
    ['event stream', 4],
    ['dead-letter queue', 1],
    // The crisis alert's SNS and e-mail lines.
    ['alert outbox', 2],
  ]);
  expect(erased.body.scrubbed.map((step: { store: string }) => step.store)).toEqual(['consent registry', 'postgresql', 'stream database']);
  expect(counts[4][1]).toBeGreaterThan(0);
  expect(again.body.removed.every((step: { count: number }) => step.count === 0)).toBe(true);
  expect(erased.body.retained.map((kept: { store: string }) => kept.store)).toEqual(['postgresql', 'audit trail', 'interventions sent', 'alert notifications']);
  expect(refused.body.rejected.map((r: { code: string }) => r.code)).toEqual(['consent_missing']);
  // Released aggregates stay as released: all three users' events are still counted.
  expect(metric.body.series[0].points[0].count).toBe(8);
  const erasures = audit.body.entries.filter((entry: { action: string }) => entry.action === 'erase');
  expect(erasures.map((entry: { details: { receiptId: string } }) => entry.details.receiptId)).toEqual([again.body.receiptId, erased.body.receiptId]);
  expect(JSON.stringify(audit.body)).not.toContain(subject);
  expect(after).toEqual([]);
}

describe('erasure in the embedded mode', () => {
  it('leaves the pseudonym, the records and their key in no store and in no byte of any file of the data folder', async () => {
    const app = await startTestRuntime({ K_ANONYMITY: '2' });
    try {
      // The user's record key made ahead, so the test knows its bytes: the embedded stores take
      // one opener at a time, so this happens while the runtime is stopped. The pseudonym is
      // computed as the runtime computes it, from the data folder's pepper.
      await app.runtime.stop();
      const subject = makePseudonymiser(localPepper(app.dataDir, undefined), 'user')('erase-me');
      const keyStore = await embeddedDatabase(join(app.dataDir, 'stream'));
      const recordKey = Buffer.from((await new SqlRecordKeyStore(keyStore).keysFor([subject])).get(subject)!.key);
      await keyStore.close();
      await app.restart();

      const result = await eraseAndScan(app, async () => []);
      const kept = (await app.request('PUT', '/v1/consent/keep-1', { body: { analytics: true, research: false, safety_monitoring: true } })).body.subject as string;
      await app.runtime.stop();
      const dumps = [...dumpLmdb(join(app.dataDir, 'consent'), [null], 'consent'), ...dumpLmdb(join(app.dataDir, 'stream-log'), ['records'], 'stream-log')];
      for (const part of ['pg', 'stream']) {
        const db = await embeddedDatabase(join(app.dataDir, part));
        dumps.push(...(await dumpTables(db, part)));
        await db.close();
      }
      const after = holding(dumps, result.subject);
      // The same scan finds a user who was not erased: it can see what it looks for.
      expect(holding(dumps, kept)).toEqual(expect.arrayContaining(['consent:root']));
      expectErased(result, after);

      expect(result.subject).toBe(subject);
      const secrets = [Buffer.from(subject), Buffer.from(subject, 'hex'), Buffer.from(CANARY), recordKey];
      // What a hex editor finds: unvacuumed pages, freed LMDB pages and the write-ahead log included.
      expect(filesHolding(app.dataDir, secrets)).toEqual([]);
      // The same read of every byte finds what was not erased: the kept user, and the database's own files.
      expect(filesHolding(app.dataDir, [Buffer.from(kept)])).toEqual(expect.arrayContaining([join('consent', 'data.mdb')]));
      expect(filesHolding(app.dataDir, [Buffer.from('record_keys')]).length).toBeGreaterThan(0);
    } finally {
      await app.stop();
    }
  });
});

describeWithServices(['postgres', 'redis'], 'erasure on PostgreSQL and Redis', () => {
  it('removes the pseudonym from every table, every Redis key and the consent registry', async () => {
    const postgres = await freshPostgresUrl();
    const prefix = freshRedisPrefix();
    const app = await startTestRuntime({ DATABASE_URL: postgres.url, REDIS_URL: urls.redis, REDIS_KEY_PREFIX: prefix, K_ANONYMITY: '2' });
    const db = postgresDatabase(postgres.url, { max: 1 });
    try {
      const scan = async (subject: string) => holding([...(await dumpTables(db)), ...(await dumpRedis(prefix))], subject);
      const result = await eraseAndScan(app, scan);
      const after = await scan(result.subject);
      await app.runtime.stop();
      after.push(...holding(dumpLmdb(join(app.dataDir, 'consent'), [null], 'consent'), result.subject));

      expect(result.before).toEqual(
        expect.arrayContaining(['postgresql:record_keys', 'postgresql:dead_letters', 'postgresql:alerts', 'postgresql:alert_conditions', expect.stringContaining('performance:users:'), expect.stringContaining('alerts:critical')]),
      );
      // Sealed, and partitioned by the key's random id: the stream's rows never held the pseudonym.
      expect(result.before).not.toContain('postgresql:stream_records');
      // The data folder of this mode (consent registry, outbox, pepper), every byte of it.
      expect(filesHolding(app.dataDir, [Buffer.from(result.subject), Buffer.from(result.subject, 'hex'), Buffer.from(CANARY)])).toEqual([]);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int4 AS n FROM research_values');
      expect(rows[0]!.n).toBe(8);
      expectErased(result, after);
    } finally {
      await db.close();
      await app.stop();
      await postgres.drop();
    }
  });
});
