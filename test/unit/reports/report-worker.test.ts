import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDatabase } from '../../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../../functions/adapters/pg/migrator';
import { SqlReportIndex } from '../../../functions/adapters/pg/sql-report-index';
import { SqlReportScheduleStore } from '../../../functions/adapters/pg/sql-report-schedules';
import { FileObjectStore } from '../../../functions/adapters/local/file-object-store';
import { LocalLinks } from '../../../functions/adapters/local/local-links';
import { reportRenderersOf } from '../../../functions/config/report-renderers';
import type { ReportDocument } from '../../../functions/domain/reports/document';
import type { ReportSchedule } from '../../../functions/domain/reports/schedule';
import type { ReportMail, ReportRun, ReportSource } from '../../../functions/ports/reports';
import { makeReportWorker, scheduledRunId } from '../../../functions/use-cases/report-worker';
import { SAMPLE_REPORT } from '../../support/report-document';

const LOGGER = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => LOGGER } as never;
const NOW = new Date('2027-04-05T12:00:00.000Z');
const WEEKLY: ReportSchedule = { id: 'weekly', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', period: 'previous_week', formats: ['csv', 'html'], recipients: ['lead@clinic.example', 'director@clinic.example'], enabled: true };

const EMPTY: ReportDocument = { ...SAMPLE_REPORT, sections: [{ id: 'none', heading: 'Nothing', blocks: [{ kind: 'table', caption: 'Empty', columns: [{ label: 'x', format: 'text' }], rows: [] }] }] };

let db: SqlDatabase;
let folder: string;

beforeAll(async () => {
  db = await embeddedDatabase(undefined);
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
}, 60_000);
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'report-worker-'));
  await db.exec('TRUNCATE reports, report_versions, report_schedules, report_mailings');
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

function setUp(options: { document?: ReportDocument; source?: ReportSource; failMail?: number } = {}) {
  const index = new SqlReportIndex(db);
  const schedules = new SqlReportScheduleStore(db);
  const objects = new FileObjectStore(folder, new LocalLinks(Buffer.alloc(32, 7), () => 'http://127.0.0.1:3000', () => NOW));
  const mails: { to: readonly string[]; mail: ReportMail }[] = [];
  const ownerAlerts: string[] = [];
  let failures = options.failMail ?? 0;
  const gathered: Pick<ReportRun, 'period'>[] = [];
  const source: ReportSource =
    options.source ??
    (async (run) => {
      gathered.push(run);
      return { ...(options.document ?? SAMPLE_REPORT), period: run.period };
    });
  const work = makeReportWorker({
    index,
    schedules,
    sources: { outcomes: source, operations: source, research: source },
    renderersOf: reportRenderersOf,
    objects,
    mailer: {
      send: async (to, mail) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('SES refused: throttled');
        }
        mails.push({ to, mail });
      },
    },
    owners: { reportFailed: async (run, reason) => void ownerAlerts.push(`${run.kind} ${run.period.label}: ${reason}`) },
    clock: { now: () => NOW },
    sleep: async () => undefined,
    logger: LOGGER,
    metrics: { count: () => undefined, observe: () => undefined },
  });
  return { index, schedules, objects, work, mails, ownerAlerts, gathered };
}

describe('the report worker', () => {
  it('makes a scheduled run for the period its firing picks, stores each format as version 1 and mails a link with the data it covers', async () => {
    const { index, schedules, objects, work, mails, gathered } = setUp();
    await schedules.replace([WEEKLY]);

    await work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });

    const run = await index.get(scheduledRunId('weekly', '2027-04-05T07:00:00.000Z'));
    expect(gathered.map((each) => each.period.label)).toEqual(['2027-W13']);
    expect(run).toMatchObject({ status: 'done', version: 1, dataThrough: SAMPLE_REPORT.dataThrough, scheduleId: 'weekly' });
    expect(run?.files.map((file) => file.objectKey)).toEqual(['reports/outcomes/2027-W13/v1.csv', 'reports/outcomes/2027-W13/v1.html']);
    expect((await objects.get('reports/outcomes/2027-W13/v1.html'))?.body.toString('utf8')).toContain('Assessment change');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(WEEKLY.recipients);
    expect(mails[0]!.mail.subject).toBe('Therapeutic outcomes report 2027-W13');
    // A link, never the figures: the report's numbers stay behind it.
    expect(mails[0]!.mail.text).toContain('http://127.0.0.1:3000/files/reports/outcomes/2027-W13/v1.csv?expires=');
    expect(mails[0]!.mail.text).toContain('It covers data up to 2027-04-01 07:58 (Europe/London).');
    expect(mails[0]!.mail.text).not.toContain('1,234');
    expect(run?.deliveries).toEqual([{ kind: 'link', status: 'sent', recipients: 2, attempts: 1, at: NOW.toISOString() }]);
  });

  it('mails a (schedule, period) once: a firing delivered twice makes one run, and a second firing of the period a new version mailed to no one', async () => {
    const { index, schedules, work, mails } = setUp();
    await schedules.replace([WEEKLY]);

    await work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });
    await work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });
    await work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T09:00:00.000Z' });

    const second = await index.get(scheduledRunId('weekly', '2027-04-05T09:00:00.000Z'));
    expect((await index.list({ limit: 10 })).runs).toHaveLength(2);
    expect(second).toMatchObject({ status: 'done', version: 2, deliveries: [{ kind: 'link', status: 'skipped', recipients: 2, attempts: 0, reason: 'this period was mailed already' }] });
    expect(mails).toHaveLength(1);
  });

  it('never mails an empty report: the run fails, recipients get a short notice, owners an alert, and no file or version is left', async () => {
    const { index, schedules, work, mails, ownerAlerts } = setUp({ document: EMPTY });
    await schedules.replace([WEEKLY]);

    await work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });

    const run = await index.get(scheduledRunId('weekly', '2027-04-05T07:00:00.000Z'));
    expect(run).toMatchObject({ status: 'failed', error: { code: 'empty' }, files: [], version: null });
    expect(ownerAlerts).toEqual(['outcomes 2027-W13: the report has no figure: no data for the period']);
    expect(mails.map((each) => each.mail.subject)).toEqual(['Therapeutic outcomes report 2027-W13: not available']);
    expect(mails[0]!.mail.text).not.toContain('http');
    expect(await index.nextVersion('outcomes', '2027-W13')).toBe(1);
  });

  it('records a source that fails as a failed run with its reason, and alerts the owners', async () => {
    const { index, work, ownerAlerts, mails } = setUp({
      source: async () => {
        throw new Error('connection terminated');
      },
    });
    await index.add({ id: '00000000-0000-4000-8000-000000000001', kind: 'operations', period: { from: '2027-03-01T00:00:00Z', to: '2027-04-01T00:00:00Z', timeZone: 'UTC', label: '2027-03' }, formats: ['pdf'], createdAt: NOW.toISOString(), createdBy: 'a', role: 'admin', scheduleId: null, test: false, parameters: {}, release: null, summary: {} });

    await work({ type: 'run', reportId: '00000000-0000-4000-8000-000000000001' });

    expect(await index.get('00000000-0000-4000-8000-000000000001')).toMatchObject({ status: 'failed', error: { code: 'source_failed', message: 'gathering the figures failed: connection terminated' } });
    expect(ownerAlerts).toHaveLength(1);
    // Asked through the API: no schedule, no one to mail.
    expect(mails).toEqual([]);
  });

  it('retries a refused e-mail, records the attempts, and gives the period back when every attempt fails', async () => {
    const retried = setUp({ failMail: 2 });
    await retried.schedules.replace([WEEKLY]);
    await retried.work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });
    expect((await retried.index.get(scheduledRunId('weekly', '2027-04-05T07:00:00.000Z')))?.deliveries).toEqual([{ kind: 'link', status: 'sent', recipients: 2, attempts: 3, at: NOW.toISOString() }]);
    expect(retried.mails).toHaveLength(1);

    // Versions counted afresh, so the files of the first half go too (a version's key is never written twice).
    await db.exec('TRUNCATE reports, report_versions, report_mailings');
    rmSync(folder, { recursive: true, force: true });
    const failing = setUp({ failMail: 3 });
    await failing.work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });
    const run = await failing.index.get(scheduledRunId('weekly', '2027-04-05T07:00:00.000Z'));
    expect(run).toMatchObject({ status: 'done', deliveries: [{ kind: 'link', status: 'failed', attempts: 3, reason: 'Error: SES refused: throttled' }] });
    expect(failing.ownerAlerts).toEqual(["outcomes 2027-W13: the e-mail to the schedule's 2 recipients failed 3 times: Error: SES refused: throttled"]);
    // The period was not mailed: the next run of it may mail it.
    expect(await failing.schedules.claimMailing('weekly', '2027-W13', run!.id)).toBe(true);
  });

  it('mails a test send marked as a test, and it does not count as the period mailed', async () => {
    const { index, schedules, work, mails } = setUp();
    await schedules.replace([WEEKLY]);
    await index.add({ id: '00000000-0000-4000-8000-000000000002', kind: 'outcomes', period: { from: '2027-03-29T00:00:00+01:00', to: '2027-04-05T00:00:00+01:00', timeZone: 'Europe/London', label: '2027-W13' }, formats: ['csv'], createdAt: NOW.toISOString(), createdBy: 'admin-1', role: 'admin', scheduleId: 'weekly', test: true, parameters: {}, release: null, summary: {} });

    await work({ type: 'test', scheduleId: 'weekly', reportId: '00000000-0000-4000-8000-000000000002' });
    await work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });

    expect(mails.map((each) => each.mail.subject)).toEqual(['[TEST] Therapeutic outcomes report 2027-W13', 'Therapeutic outcomes report 2027-W13']);
    expect((await index.get('00000000-0000-4000-8000-000000000002'))?.deliveries).toMatchObject([{ kind: 'test', status: 'sent' }]);
  });

  it('leaves a run another worker is making to it, and does nothing for a disabled schedule', async () => {
    const { index, schedules, work, gathered } = setUp();
    await schedules.replace([{ ...WEEKLY, enabled: false }]);
    await work({ type: 'schedule', scheduleId: 'weekly', firedAt: '2027-04-05T07:00:00.000Z' });
    expect([gathered.length, (await index.list({ limit: 5 })).runs.length]).toEqual([0, 0]);

    await index.add({ id: '00000000-0000-4000-8000-000000000003', kind: 'outcomes', period: { from: '2027-03-01T00:00:00Z', to: '2027-04-01T00:00:00Z', timeZone: 'UTC', label: '2027-03' }, formats: ['csv'], createdAt: NOW.toISOString(), createdBy: 'a', role: 'admin', scheduleId: null, test: false, parameters: {}, release: null, summary: {} });
    await index.start('00000000-0000-4000-8000-000000000003', NOW, 120_000);
    await expect(work({ type: 'run', reportId: '00000000-0000-4000-8000-000000000003' })).rejects.toThrow('being made by another worker');
    expect(gathered).toHaveLength(0);
  });
});
