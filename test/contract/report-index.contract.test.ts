import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlReportIndex } from '../../functions/adapters/pg/sql-report-index';
import { SqlReportScheduleStore } from '../../functions/adapters/pg/sql-report-schedules';
import type { ReportSchedule } from '../../functions/domain/reports/schedule';
import type { NewReportRun } from '../../functions/ports/reports';
import { contractOnBothDatabases } from '../support/both-databases';

const run = (n: number, createdAt: string, kind: NewReportRun['kind'] = 'outcomes'): NewReportRun => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  kind,
  period: { from: '2026-11-01T00:00:00+00:00', to: '2026-12-01T00:00:00+00:00', timeZone: 'Europe/London', label: '2026-11' },
  formats: ['pdf', 'xlsx'],
  createdAt,
  createdBy: 'analyst-1',
  role: 'analyst',
  scheduleId: null,
  test: false,
  parameters: { baseline: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' } },
  release: null,
  summary: {},
});

async function expectIndexContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const index = new SqlReportIndex(db);
  const at = new Date('2026-12-01T09:00:00.000Z');
  await index.add(run(1, '2025-10-01T00:00:00.000Z'));
  await index.add(run(2, '2026-11-20T00:00:00.000Z', 'operations'));
  await index.add(run(3, '2026-11-21T00:00:00.000Z'));
  // A job delivered twice adds its run twice: the first stays as it was.
  await index.add({ ...run(3, '2026-11-22T00:00:00.000Z'), createdBy: 'someone else' });

  const third = await index.get(run(3, '').id);
  expect(third).toMatchObject({ status: 'queued', createdAt: '2026-11-21T00:00:00.000Z', createdBy: 'analyst-1', files: [], deliveries: [], version: null, dataThrough: null, error: null });
  expect(third?.period).toEqual(run(3, '').period);
  expect(await index.get('00000000-0000-4000-8000-000000000009')).toBeUndefined();

  // Taken once: a second worker finds it running, until it goes quiet for the stale time.
  expect(await index.start(run(3, '').id, at, 60_000)).toMatchObject({ status: 'running' });
  expect(await index.start(run(3, '').id, new Date(at.getTime() + 30_000), 60_000)).toBeUndefined();
  await index.progress(run(3, '').id, { stage: 'rendering pdf', done: 0, total: 2 }, new Date(at.getTime() + 50_000));
  expect(await index.start(run(3, '').id, new Date(at.getTime() + 100_000), 60_000)).toBeUndefined();
  expect(await index.start(run(3, '').id, new Date(at.getTime() + 200_000), 60_000)).toMatchObject({ status: 'running', progress: { stage: 'rendering pdf', done: 0, total: 2 } });

  // Versions of one kind and period count up; another kind or period has its own.
  expect([await index.nextVersion('outcomes', '2026-11'), await index.nextVersion('outcomes', '2026-11'), await index.nextVersion('operations', '2026-11'), await index.nextVersion('outcomes', '2026-10')]).toEqual([1, 2, 1, 1]);

  const files = [{ format: 'pdf' as const, objectKey: 'reports/outcomes/2026-11/v2.pdf', bytes: 1234, contentType: 'application/pdf' }];
  await index.finish(run(3, '').id, { version: 2, dataThrough: '2026-11-30T23:59:00.000Z', files, summary: { sections: ['summary'] } }, at);
  await index.addDelivery(run(3, '').id, { kind: 'link', status: 'sent', recipients: 2, attempts: 1, at: at.toISOString() });
  expect(await index.get(run(3, '').id)).toMatchObject({ status: 'done', version: 2, dataThrough: '2026-11-30T23:59:00.000Z', files, progress: null, deliveries: [{ kind: 'link', status: 'sent', recipients: 2, attempts: 1 }] });
  await index.fail(run(2, '').id, { code: 'empty', message: 'no figure' }, at);
  expect(await index.get(run(2, '').id)).toMatchObject({ status: 'failed', error: { code: 'empty', message: 'no figure' } });

  // Newest first, a page at a time, by kind.
  const first = await index.list({ limit: 2 });
  expect(first.runs.map((each) => each.id)).toEqual([run(3, '').id, run(2, '').id]);
  const second = await index.list({ limit: 2, cursor: first.cursor! });
  expect([second.runs.map((each) => each.id), second.cursor]).toEqual([[run(1, '').id], null]);
  expect((await index.list({ limit: 10, kind: 'operations' })).runs.map((each) => each.id)).toEqual([run(2, '').id]);
  await expect(index.list({ limit: 2, cursor: 'not-a-cursor' })).rejects.toThrow(RangeError);

  expect(await index.purgeBefore(new Date('2026-11-21T00:00:00.000Z'))).toEqual([]);
  expect(await index.get(run(1, '').id)).toBeUndefined();
  expect(await index.purgeBefore(new Date('2026-12-01T00:00:00.000Z'))).toEqual(['reports/outcomes/2026-11/v2.pdf']);
}

contractOnBothDatabases('SQL report index', 'keeps runs as added, hands each to one worker, counts versions, lists newest first and purges', expectIndexContract);

const schedule = (id: string, overrides: Partial<ReportSchedule> = {}): ReportSchedule => ({
  id,
  kind: 'outcomes',
  cron: '0 8 * * MON',
  timeZone: 'America/New_York',
  period: 'previous_week',
  formats: ['pdf', 'xlsx'],
  recipients: ['lead@clinic.example'],
  enabled: true,
  ...overrides,
});

async function expectScheduleContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const store = new SqlReportScheduleStore(db);
  await store.replace([schedule('weekly'), schedule('monthly', { kind: 'operations', period: 'previous_month', recipients: [], enabled: false })]);
  expect(await store.list()).toEqual([schedule('weekly'), schedule('monthly', { kind: 'operations', period: 'previous_month', recipients: [], enabled: false })]);
  await store.replace([schedule('daily', { period: 'previous_day', cron: '30 6 * * *' })]);
  expect([await store.list(), await store.get('weekly')]).toEqual([[schedule('daily', { period: 'previous_day', cron: '30 6 * * *' })], undefined]);

  const runA = '00000000-0000-4000-8000-00000000000a';
  const runB = '00000000-0000-4000-8000-00000000000b';
  // One mailing per (schedule, period): the second run of a period finds it claimed, sent or not.
  expect(await store.claimMailing('daily', '2026-12-01', runA)).toBe(true);
  expect(await store.claimMailing('daily', '2026-12-01', runB)).toBe(false);
  expect(await store.claimMailing('daily', '2026-12-02', runB)).toBe(true);
  await store.settleMailing('daily', '2026-12-01', 'sent');
  expect(await store.claimMailing('daily', '2026-12-01', runB)).toBe(false);
  // A failed mailing is given back: the next attempt may send it.
  await store.settleMailing('daily', '2026-12-02', 'failed');
  expect(await store.claimMailing('daily', '2026-12-02', runA)).toBe(true);
  expect(await store.claimMailing('daily', '2026-12-02', runB)).toBe(false);
}

contractOnBothDatabases('SQL report schedules', 'replaces the set in order and claims each (schedule, period) mailing once', expectScheduleContract);
