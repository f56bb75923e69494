import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlAlertStore } from '../../functions/adapters/pg/sql-alert-store';
import { SqlConditionStore } from '../../functions/adapters/pg/sql-condition-store';
import { INITIAL_CONDITION } from '../../functions/domain/alerting/evaluate';
import { SqlSilenceStore } from '../../functions/adapters/pg/sql-silence-store';
import type { FiringAlert } from '../../functions/ports/alerts';
import { describeWithServices, freshPostgresUrl } from '../support/services';

const t0 = new Date('2026-11-20T10:00:00.000Z');
const at = (sec: number) => new Date(t0.getTime() + sec * 1000);

const firing = (n: number, over: Partial<FiringAlert> = {}): FiringAlert => ({
  id: `alert-${n}-${over.at?.getTime() ?? 0}`,
  fingerprint: `fp-${n}`,
  rule: 'crisis-signal',
  severity: 'critical',
  subject: `user:${String(n).repeat(64).slice(0, 64)}`,
  labels: { rule: 'crisis-signal', severity: 'critical', subject: `user:${n}` },
  summary: `crisis ${n}`,
  routing: { channels: ['sns'], groupBy: ['rule'], repeatIntervalSec: 600 },
  at: t0,
  ...over,
});

async function expectAlertLifecycle(db: SqlDatabase): Promise<void> {
  const store = new SqlAlertStore(db);
  const opened = await store.upsertFiring(firing(1));
  const again = await store.upsertFiring(firing(1, { id: 'ignored', summary: 'crisis 1, again', at: at(5) }));
  expect(again).toMatchObject({ id: opened.id, summary: 'crisis 1, again', status: 'firing', startsAt: t0 });
  expect(again.lastNotifiedAt).toBeUndefined();

  // The firing claim: of two callers that read "never notified", one wins.
  const claim = { alertId: opened.id, kind: 'firing' as const, expected: undefined, at: at(5) };
  expect(await store.claim({ ...claim, notificationId: 'n1' })).toBe(true);
  expect(await store.claim({ ...claim, notificationId: 'n2' })).toBe(false);
  // A repeat claim on a stale read loses; on the current one wins, once.
  const repeat = { alertId: opened.id, kind: 'repeat' as const, at: at(700) };
  expect(await store.claim({ ...repeat, notificationId: 'n3', expected: t0 })).toBe(false);
  expect(await store.claim({ ...repeat, notificationId: 'n4', expected: at(5) })).toBe(true);
  expect(await store.claim({ ...repeat, notificationId: 'n5', expected: at(5) })).toBe(false);
  const escalation = { alertId: opened.id, kind: 'escalation' as const, expected: undefined, at: at(700) };
  expect(await store.claim({ ...escalation, notificationId: 'n6' })).toBe(true);
  expect(await store.claim({ ...escalation, notificationId: 'n7' })).toBe(false);

  await store.record('n1', [
    { channel: 'sns', status: 'delivered', attempts: 1, at: at(6) },
    { channel: 'email', status: 'undelivered', attempts: 3, at: at(6), error: 'Throttling' },
  ]);
  await store.record('n1', [{ channel: 'sns', status: 'undelivered', attempts: 9, at: at(7) }]);
  expect(await store.get(opened.id)).toEqual({
    id: opened.id,
    rule: 'crisis-signal',
    severity: 'critical',
    status: 'firing',
    subject: firing(1).subject,
    labels: firing(1).labels,
    summary: 'crisis 1, again',
    startsAt: t0.toISOString(),
    updatedAt: at(5).toISOString(),
    escalatedAt: at(700).toISOString(),
    // In no clinician's caseload.
    unassigned: true,
    notifications: [
      { kind: 'firing', channel: 'sns', status: 'delivered', attempts: 1, at: at(6).toISOString() },
      { kind: 'firing', channel: 'email', status: 'undelivered', attempts: 3, at: at(6).toISOString(), error: 'Throttling' },
    ],
  });

  // n4 and n6 have no outcome: stale after a minute, taken over by one caller.
  expect(await store.staleClaims(at(700), 10)).toHaveLength(2);
  const stale = await store.staleClaims(at(701), 10);
  expect(stale.map((s) => [s.notificationId, s.kind, s.alert.id])).toEqual([
    ['n4', 'repeat', opened.id],
    ['n6', 'escalation', opened.id],
  ]);
  expect(await store.retake('n4', at(701), at(761))).toBe(true);
  expect(await store.retake('n4', at(701), at(761))).toBe(false);
  await store.record('n6', [{ channel: 'sns', status: 'delivered', attempts: 1, at: at(770) }]);
  expect(await store.staleClaims(at(761), 10)).toEqual([expect.objectContaining({ notificationId: 'n4' })]);

  // Acknowledged: no more claims, and stale ones of it are left unsent.
  const acked = await store.acknowledge(opened.id, 'clinician-7', at(800));
  expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'clinician-7', acknowledgedAt: at(800).toISOString() });
  expect(await store.acknowledge(opened.id, 'clinician-8', at(801))).toMatchObject({ acknowledgedBy: 'clinician-7' });
  expect(await store.claim({ ...repeat, notificationId: 'n8', expected: at(700), at: at(2000) })).toBe(false);
  expect(await store.staleClaims(at(2000), 10)).toEqual([]);
  expect(await store.firing(10)).toEqual([]);

  // Resolution: once, with a 'resolved' claim because it was notified.
  expect(await store.resolve({ fingerprint: 'fp-1', at: at(900), notificationId: 'r1', now: at(901) })).toMatchObject({ alert: { id: opened.id, status: 'resolved' }, resolvedNotificationId: 'r1' });
  expect(await store.resolve({ fingerprint: 'fp-1', at: at(900), notificationId: 'r2', now: at(901) })).toBeUndefined();
  expect(await store.acknowledge(opened.id, 'clinician-7', at(950))).toBe('resolved');
  expect(await store.acknowledge('nope', 'clinician-7', at(950))).toBeUndefined();
  expect(await store.staleClaims(at(1000), 10)).toEqual([expect.objectContaining({ notificationId: 'r1', kind: 'resolved' })]);

  // Firing again after resolution opens a new alert; one only silenced resolves without a claim.
  const reopened = await store.upsertFiring(firing(1, { at: at(1000) }));
  expect(reopened.id).not.toBe(opened.id);
  expect(await store.claim({ notificationId: 'n9', alertId: reopened.id, kind: 'firing', expected: undefined, at: at(1000) })).toBe(true);
  await store.record('n9', [{ channel: 'sns', status: 'silenced', attempts: 0, at: at(1000) }]);
  expect(await store.firing(10)).toEqual([expect.objectContaining({ id: reopened.id, lastNotifiedAt: at(1000) })]);
  expect(await store.resolve({ fingerprint: 'fp-1', at: at(1100), notificationId: 'r3', now: at(1100) })).toEqual({ alert: expect.objectContaining({ id: reopened.id }) });

  // Listing: newest first, filters, paging by startsAt.
  await store.upsertFiring(firing(2, { severity: 'warning', at: at(2000) }));
  await store.upsertFiring(firing(3, { at: at(3000) }));
  const ids = async (query: Parameters<SqlAlertStore['list']>[0]) => (await store.list(query)).map((a) => a.summary);
  expect(await ids({})).toEqual(['crisis 3', 'crisis 2', 'crisis 1', 'crisis 1, again']);
  expect(await ids({ status: 'firing' })).toEqual(['crisis 3', 'crisis 2']);
  expect(await ids({ severity: 'warning' })).toEqual(['crisis 2']);
  expect(await ids({ limit: 1, before: at(3000) })).toEqual(['crisis 2']);

  expect(await store.eraseSubject(firing(1).subject)).toBe(2);
  expect(await ids({})).toEqual(['crisis 3', 'crisis 2']);

  // A resolution dated before the alert started is kept at its start: never resolvedAt < startsAt.
  const late = await store.upsertFiring(firing(1, { at: at(1500) }));
  await store.resolve({ fingerprint: 'fp-1', at: at(1200), notificationId: 'r4', now: at(1501) });
  expect((await store.list({})).find((a) => a.id === late.id)).toMatchObject({ startsAt: at(1500).toISOString(), resolvedAt: at(1500).toISOString() });
}

async function expectSilences(db: SqlDatabase): Promise<void> {
  const store = new SqlSilenceStore(db);
  const subject = `user:${'b'.repeat(64)}`;
  const base = { comment: 'maintenance', createdBy: 'admin-1', createdAt: t0 };
  const s1 = await store.add({ ...base, id: 's1', matchers: [{ name: 'rule', value: 'crisis-.*', isRegex: true }], startsAt: t0, endsAt: at(3600) });
  expect(s1).toEqual({ ...base, id: 's1', matchers: [{ name: 'rule', value: 'crisis-.*', isRegex: true }], startsAt: t0.toISOString(), endsAt: at(3600).toISOString(), createdAt: t0.toISOString() });
  await store.add({ ...base, id: 's2', matchers: [{ name: 'subject', value: subject }], startsAt: at(600), endsAt: at(7200), createdAt: at(1) });

  expect((await store.active(at(10))).map((s) => s.id)).toEqual(['s1']);
  expect((await store.active(at(600))).map((s) => s.id).sort()).toEqual(['s1', 's2']);
  expect((await store.list(at(10))).map((s) => s.id)).toEqual(['s2', 's1']);

  expect(await store.expire('s2', 'admin-2', at(60))).toBe(true);
  expect(await store.expire('s2', 'admin-3', at(70))).toBe(true);
  expect(await store.expire('unknown', 'admin-2', at(60))).toBe(false);
  expect((await store.list(at(70))).find((s) => s.id === 's2')).toMatchObject({ startsAt: at(60).toISOString(), endsAt: at(60).toISOString(), expiredBy: 'admin-2' });
  expect((await store.active(at(600))).map((s) => s.id)).toEqual(['s1']);
  expect((await store.list(at(8 * 86_400))).map((s) => s.id)).toEqual([]);

  expect(await store.eraseSubject(subject)).toBe(1);
  expect(await store.expire('s2', 'admin-2', at(60))).toBe(false);
}

async function expectTimings(db: SqlDatabase): Promise<void> {
  const store = new SqlAlertStore(db);
  const windowStart = new Date('2026-12-01T00:00:00.000Z');
  const inWindow = (min: number) => new Date(windowStart.getTime() + min * 60_000);
  await store.upsertFiring(firing(21, { id: 'before', at: inWindow(-1) }));
  const acked = await store.upsertFiring(firing(22, { id: 'acked', at: inWindow(0) }));
  await store.upsertFiring(firing(23, { id: 'warned', rule: 'quiet-user', severity: 'warning', at: inWindow(10) }));
  await store.upsertFiring(firing(24, { id: 'after', at: inWindow(60) }));
  await store.acknowledge(acked.id, 'clinician-1', inWindow(5));
  await store.resolve({ fingerprint: 'fp-22', at: inWindow(20), notificationId: 'r22', now: inWindow(20) });
  await store.claim({ notificationId: 'e23', alertId: 'warned', kind: 'escalation', expected: undefined, at: inWindow(15) });

  const timings = await store.timings(windowStart, inWindow(60));

  expect(timings).toEqual([
    { rule: 'crisis-signal', severity: 'critical', status: 'resolved', startsAt: inWindow(0), acknowledgedAt: inWindow(5), resolvedAt: inWindow(20) },
    { rule: 'quiet-user', severity: 'warning', status: 'firing', startsAt: inWindow(10), escalatedAt: inWindow(15) },
  ]);
  expect(await store.timings(inWindow(60), inWindow(61))).toHaveLength(1);
}

/** Retention, in 2025 so that the other checks' alerts (November and December 2026) are not in its reach. */
async function expectRetention(db: SqlDatabase): Promise<void> {
  const store = new SqlAlertStore(db);
  const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
  const cutoff = day(100);
  for (const [n, id] of [[31, 'old-resolved'], [32, 'new-resolved'], [33, 'old-firing'], [34, 'old-acked']] as const) await store.upsertFiring(firing(n, { id, at: day(0) }));
  expect(await store.claim({ notificationId: 'n31', alertId: 'old-resolved', kind: 'firing', expected: undefined, at: day(0) })).toBe(true);
  await store.resolve({ fingerprint: 'fp-31', at: day(99), notificationId: 'r31', now: day(99) });
  await store.resolve({ fingerprint: 'fp-32', at: day(100), notificationId: 'r32', now: day(100) });
  await store.acknowledge('old-acked', 'clinician-1', day(1));

  // Resolved before the cutoff: gone with its notifications. Resolved at it, still firing, or acknowledged and open: kept.
  expect(await store.purgeResolvedBefore(cutoff)).toBe(1);
  expect(await store.get('old-resolved')).toBeUndefined();
  expect((await db.query(`SELECT id FROM alert_notifications WHERE alert_id = 'old-resolved'`)).rows).toEqual([]);
  for (const id of ['new-resolved', 'old-firing', 'old-acked']) expect(await store.get(id)).toBeDefined();
  expect(await store.purgeResolvedBefore(cutoff)).toBe(0);

  const conditions = new SqlConditionStore(db);
  const user = (n: number) => ({ kind: 'user' as const, id: String(n).repeat(64).slice(0, 64) });
  const states = {
    idle: INITIAL_CONDITION,
    pending: { ...INITIAL_CONDITION, holds: true, since: day(0).getTime() },
    active: { ...INITIAL_CONDITION, holds: true, since: day(0).getTime(), active: true },
    flagged: { ...INITIAL_CONDITION, atRisk: { since: day(0).getTime(), until: day(200).getTime() } },
    'recently written': INITIAL_CONDITION,
  };
  const names = Object.keys(states);
  for (const [i, state] of Object.values(states).entries()) expect(await conditions.save('retention-rule', user(41 + i), state, 0)).toBe(true);
  // Written on day 50, but the last one, written on the cutoff's day.
  await db.query(`UPDATE alert_conditions SET updated_at = CASE WHEN subject_id = $1 THEN $2::timestamptz ELSE $3::timestamptz END WHERE rule_id = 'retention-rule'`, [user(45).id, cutoff.toISOString(), day(50).toISOString()]);

  // Only the idle condition last written before the cutoff holds nothing any more.
  expect(await conditions.purgeIdleBefore(cutoff)).toBe(1);
  const kept = await Promise.all(names.map(async (_, i) => (await conditions.get('retention-rule', user(41 + i))).version));
  expect(Object.fromEntries(names.map((name, i) => [name, kept[i]]))).toEqual({ idle: 0, pending: 1, active: 1, flagged: 1, 'recently written': 1 });
}

async function expectFencedSends(db: SqlDatabase): Promise<void> {
  const store = new SqlAlertStore(db);
  const opened = await store.upsertFiring(firing(51, { routing: { channels: ['sns', 'email'], groupBy: ['rule'], repeatIntervalSec: 600 } }));
  const other = await store.upsertFiring(firing(52));
  expect(await store.claim({ notificationId: 'f1', alertId: opened.id, kind: 'firing', expected: undefined, at: at(10) })).toBe(true);
  expect(await store.claim({ notificationId: 'f2', alertId: other.id, kind: 'firing', expected: undefined, at: at(10) })).toBe(true);

  // Begun by the holder of the claim's time only, once.
  expect(await store.begin(['f1'], at(11), at(12))).toEqual([]);
  expect(await store.begin(['f1'], at(10), at(12))).toEqual(['f1']);
  expect(await store.begin(['f1'], at(10), at(13))).toEqual([]);
  // A claim not begun is retaken after its lease, and its old holder can no longer begin it.
  expect(await store.staleClaims(at(11), 10)).toEqual([expect.objectContaining({ notificationId: 'f2', begun: false })]);
  expect(await store.retake('f2', at(11), at(71))).toBe(true);
  expect(await store.begin(['f2'], at(10), at(80))).toEqual([]);
  expect(await store.begin(['f2'], at(71), at(80))).toEqual(['f2']);

  // A begun claim is stale by when its send began, and is never retaken.
  expect(await store.staleClaims(at(72), 10)).toEqual([expect.objectContaining({ notificationId: 'f1', begun: true })]);
  expect(await store.retake('f1', at(72), at(73))).toBe(false);

  // An `unknown` record gives way to the sender's own outcome; a real outcome to nothing.
  await store.record('f1', [{ channel: 'sns', status: 'unknown', attempts: 0, at: at(73) }, { channel: 'email', status: 'unknown', attempts: 0, at: at(73) }]);
  expect((await store.get(opened.id))?.notifications.map((n) => n.status)).toEqual(['unknown', 'unknown']);
  expect(await store.staleClaims(at(200), 10)).toEqual([expect.objectContaining({ notificationId: 'f2', begun: true })]);
  await store.record('f1', [{ channel: 'sns', status: 'delivered', attempts: 1, at: at(74) }, { channel: 'email', status: 'delivered', attempts: 2, at: at(74) }]);
  await store.record('f1', [{ channel: 'sns', status: 'unknown', attempts: 0, at: at(75) }]);
  expect((await store.get(opened.id))?.notifications.map((n) => `${n.channel}:${n.status}`)).toEqual(['sns:delivered', 'email:delivered']);
}

async function expectOnMigrated(db: SqlDatabase, check: (db: SqlDatabase) => Promise<void>): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  await check(db);
}

describe('SQL alert and silence stores (PGlite)', () => {
  let db: SqlDatabase;
  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
  });
  afterAll(async () => {
    await db.close();
  });

  it('keeps one open alert per fingerprint, and lets exactly one caller claim each notification', async () => {
    await expectOnMigrated(db, expectAlertLifecycle);
  });

  it("fences each send: begun once by the claim's holder, never retaken once begun, and an unknown outcome gives way to the real one", async () => {
    await expectOnMigrated(db, expectFencedSends);
  });

  it('keeps silences, answers the active ones, expires and erases them', async () => {
    await expectOnMigrated(db, expectSilences);
  });

  it('answers the timings of the alerts that started in a window, without whom they concern', async () => {
    await expectOnMigrated(db, expectTimings);
  });

  it('purges resolved alerts with their notifications, and idle rule conditions, written before a cutoff', async () => {
    await expectOnMigrated(db, expectRetention);
  });
});

describeWithServices(['postgres'], 'SQL alert and silence stores on PostgreSQL', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshPostgresUrl();
    db = postgresDatabase(fresh.url);
    drop = fresh.drop;
  });
  afterAll(async () => {
    await db.close();
    await drop();
  });

  it('keeps one open alert per fingerprint, and lets exactly one caller claim each notification', async () => {
    await expectOnMigrated(db, expectAlertLifecycle);
  });

  it("fences each send: begun once by the claim's holder, never retaken once begun, and an unknown outcome gives way to the real one", async () => {
    await expectOnMigrated(db, expectFencedSends);
  });

  it('keeps silences, answers the active ones, expires and erases them', async () => {
    await expectOnMigrated(db, expectSilences);
  });

  it('answers the timings of the alerts that started in a window, without whom they concern', async () => {
    await expectOnMigrated(db, expectTimings);
  });

  it('purges resolved alerts with their notifications, and idle rule conditions, written before a cutoff', async () => {
    await expectOnMigrated(db, expectRetention);
  });
});
