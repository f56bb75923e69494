import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlInterventionStore } from '../../functions/adapters/pg/sql-intervention-store';
import type { InterventionRecord } from '../../functions/ports/interventions';
import { contractOnBothDatabases } from '../support/both-databases';

const record = (n: number, subject: string, recommendedAt: string, extra: Partial<InterventionRecord> = {}): InterventionRecord => ({
  id: `00000000-0000-8000-8000-${String(n).padStart(12, '0')}`,
  ruleId: 'crisis-signal',
  subject,
  eventId: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  interventionType: 'crisis_support',
  urgency: 'crisis',
  recommendedAt: new Date(recommendedAt),
  status: 'sent',
  sender: 'webhook',
  attempts: 1,
  sentAt: new Date(Date.parse(recommendedAt) + 120),
  ...extra,
});

async function expectInterventionContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const store = new SqlInterventionStore(db);
  const alice = `user:${'a'.repeat(64)}`;
  const bob = `user:${'b'.repeat(64)}`;
  const first = record(1, alice, '2026-11-01T09:00:00.000Z');
  const { sender: _sender, sentAt: _sentAt, ...unsent } = record(2, alice, '2026-12-01T09:00:00.000Z', { status: 'no_channel', attempts: 0 });

  expect(await store.record(first)).toBe(true);
  expect(await store.record(unsent)).toBe(true);
  expect(await store.record(record(3, bob, '2026-12-02T09:00:00.000Z', { status: 'failed', attempts: 3, interventionType: 'check_in', urgency: 'elevated' }))).toBe(true);
  // A batch retried records the same id again: the first record stands.
  expect(await store.record({ ...first, status: 'failed' })).toBe(false);

  expect(await store.ofSubject(alice)).toEqual([unsent, first]);
  expect((await store.ofSubject(bob)).map((r) => [r.status, r.attempts, r.interventionType])).toEqual([['failed', 3, 'check_in']]);

  expect(await store.purgeBefore(new Date('2026-11-15T00:00:00Z'))).toBe(1);
  expect(await store.ofSubject(alice)).toEqual([unsent]);
  expect(await store.eraseSubject(bob)).toBe(1);
  expect(await store.ofSubject(bob)).toEqual([]);
  expect(await store.eraseSubject(bob)).toBe(0);
}

contractOnBothDatabases('SqlInterventionStore', 'records each recommendation once, lists a subject’s newest first, purges by age and erases a subject', expectInterventionContract);

/**
 * Carol is recommended crisis support at 10:00 and a check-in at 11:00; her moods come at 09:00
 * (before both), 09:30 (later, and seen in a later batch: the mood before becomes it), 12:00
 * (answers the check-in) and 13:00 (after the crisis support she completed at 12:30). Dave's
 * completion comes two days late, and of another type: neither follows anything.
 */
async function expectFollowUpContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const store = new SqlInterventionStore(db);
  const carol = `user:${'c'.repeat(64)}`;
  const dave = `user:${'d'.repeat(64)}`;
  const mood = (subject: string, valence: number, at: string) => ({ kind: 'mood' as const, subject, valence, at: new Date(at) });
  const completed = (subject: string, interventionType: string, at: string) => ({ kind: 'completed' as const, subject, interventionType, at: new Date(at) });

  await store.followUp([mood(carol, -0.6, '2026-11-10T09:00:00Z'), mood(dave, 0.1, '2026-11-10T08:00:00Z')]);
  await store.record(record(11, carol, '2026-11-10T10:00:00.000Z'));
  await store.record(record(12, carol, '2026-11-10T11:00:00.000Z', { interventionType: 'check_in', urgency: 'elevated', ruleId: 'phq9-rise' }));
  await store.record(record(13, dave, '2026-11-10T10:00:00.000Z'));
  const batch = [
    mood(carol, -0.4, '2026-11-10T09:30:00Z'),
    mood(carol, -0.1, '2026-11-10T12:00:00Z'),
    completed(carol, 'crisis_support', '2026-11-10T12:30:00Z'),
    mood(carol, 0.2, '2026-11-10T13:00:00Z'),
    completed(dave, 'crisis_support', '2026-11-12T11:00:00Z'),
    completed(dave, 'breathing', '2026-11-10T11:00:00Z'),
  ];
  await store.followUp(batch);
  // The same batch again (a retried one) changes nothing.
  await store.followUp(batch);

  const [checkIn, crisis] = await store.ofSubject(carol);
  expect([checkIn!.followedAt?.toISOString(), checkIn!.moodBefore, checkIn!.moodAfter]).toEqual(['2026-11-10T12:00:00.000Z', -0.4, -0.1]);
  expect([crisis!.followedAt?.toISOString(), crisis!.moodBefore, crisis!.moodAfter]).toEqual(['2026-11-10T12:30:00.000Z', -0.4, 0.2]);
  expect((await store.ofSubject(dave))[0]!.followedAt).toBeUndefined();

  const counts = await store.effectiveness(new Date('2026-11-09T00:00:00Z'), new Date('2026-11-16T00:00:00Z'));
  expect(counts.map((row) => ({ ...row, moodChangeMean: row.moodChangeMean === null ? null : Number(row.moodChangeMean.toFixed(6)) }))).toEqual([
    { week: new Date('2026-11-09T00:00:00Z'), interventionType: 'check_in', users: 1, recommended: 1, sent: 1, followed: 1, moodUsers: 1, moodChangeMean: 0.3 },
    { week: new Date('2026-11-09T00:00:00Z'), interventionType: 'crisis_support', users: 2, recommended: 2, sent: 2, followed: 1, moodUsers: 1, moodChangeMean: 0.6 },
  ]);
  expect(await store.effectiveness(new Date('2026-11-16T00:00:00Z'), new Date('2026-11-23T00:00:00Z'))).toEqual([]);

  // A last mood is forgotten once it is too old to be a mood before, and erased with its user.
  expect(await store.forgetMoodsBefore(new Date('2026-11-10T12:59:00Z'))).toBe(1);
  expect(await store.eraseSubject(carol)).toBe(3);
  expect(await store.forgetMoodsBefore(new Date('2026-11-20T00:00:00Z'))).toBe(0);
}

contractOnBothDatabases('SqlInterventionStore', 'closes the loop: a completion or a check-in answered follows a recommendation, with the moods before and after, counted per week and type', expectFollowUpContract);
