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
