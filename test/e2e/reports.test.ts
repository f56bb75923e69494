import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { extractText, getDocumentProxy } from 'unpdf';
import { periodOf } from '../../functions/domain/reports/schedule';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

/*
 * Reports through the local runtime as a client sees them (issue 17): asked for (202), made by
 * the runtime's report worker, read through links that expire, versioned, scheduled in a zone,
 * test-sent to the outbox (SES's stand-in) as a link and never as the data.
 */

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const period = { from: new Date(today - 7 * DAY).toISOString(), to: new Date(today + DAY).toISOString() };
const USERS = Array.from({ length: 12 }, (_, n) => `report-user-${n}`);

function outbox(app: TestRuntime): Record<string, unknown>[] {
  try {
    return readFileSync(join(app.dataDir, 'alerts', 'outbox.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch {
    return [];
  }
}

describe('reports through the local runtime', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: '5' });
    // Two days ago, and the middle of New York's previous week, which the schedule's test send covers.
    const previousWeek = Date.parse(periodOf('previous_week', new Date(), 'America/New_York').from) + 3.5 * DAY;
    const days = [today - 2 * DAY + 10 * 3_600_000, previousWeek].map((at) => new Date(at).toISOString());
    const events = days.flatMap((at) =>
      USERS.flatMap((userId, n) => [
        makeEvent({ userId, occurredAt: at }, 'session.started'),
        makeEvent({ userId, occurredAt: at, attributes: { interventionType: 'grounding', urgency: 'standard', completion: n % 3 === 0 ? 'skipped' : 'completed', effectivenessRating: 4 } }, 'intervention.delivered'),
      ]),
    );
    const posted = await app.postEvents(events);
    if (posted.body.accepted !== events.length) throw new Error(`the runtime took ${posted.body.accepted} of ${events.length} events`);
    await app.runtime.drain();
    await app.runtime.rollUp();
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  it('answers 202, makes the PDF, and serves it through a link that expires; the text shows the figures and the data it covers', async () => {
    const created = await app.request('POST', '/v1/reports', { body: { kind: 'outcomes', ...period, timeZone: 'Europe/London', format: 'pdf' } });
    expect([created.status, created.body.status]).toEqual([202, 'queued']);

    const { page, file } = await app.madeReport(created.body.id as string);

    expect(file.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(page).toMatchObject({ kind: 'outcomes', status: 'done', version: 1, formats: ['pdf'], files: [{ format: 'pdf', bytes: file.length, contentType: 'application/pdf' }] });
    expect(page.files[0].url).toMatch(/\/files\/reports\/outcomes\/[^/]+\/v1\.pdf\?expires=\d+&signature=[0-9a-f]{64}$/);
    expect(Date.parse(page.files[0].expiresAt) - Date.now()).toBeGreaterThan(50 * 60_000);
    expect(page.dataThrough).not.toBeNull();
    const text = (await extractText(await getDocumentProxy(new Uint8Array(file)), { mergePages: true })).text;
    expect(text).toContain('Sessions started');
    for (const user of USERS) expect(text).not.toContain(user);
  }, 120_000);

  it('makes a new version of the same period, never an overwrite, and lists both newest first', async () => {
    const body = { kind: 'operations', ...period, format: 'xlsx' };
    const first = await app.madeReport((await app.request('POST', '/v1/reports', { body })).body.id as string);
    const second = await app.madeReport((await app.request('POST', '/v1/reports', { body })).body.id as string);
    const list = await app.request('GET', '/v1/reports?kind=operations&limit=1');
    const next = await app.request('GET', `/v1/reports?kind=operations&limit=1&cursor=${list.body.cursor}`);

    expect([first.page.version, second.page.version]).toEqual([1, 2]);
    expect(second.page.files[0].url).toContain('/v2.xlsx?');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(first.file as unknown as ArrayBuffer);
    expect(workbook.worksheets.length).toBeGreaterThan(1);
    expect([list.body.reports[0].id, next.body.reports[0].id]).toEqual([second.page.id, first.page.id]);
    // Lists carry no links: a link is minted when one report is read.
    expect(list.body.reports[0].files[0].url).toBeUndefined();
  }, 120_000);

  it('refuses an altered or unsigned link with 403, and bad requests with 400 naming the field', async () => {
    const { page } = await app.madeReport((await app.request('POST', '/v1/reports', { body: { kind: 'operations', ...period, format: 'csv' } })).body.id as string);
    const url = page.files[0].url as string;

    const altered = await fetch(url.replace(/signature=([0-9a-f])/, (_, first: string) => `signature=${first === '0' ? '1' : '0'}`));
    const unsigned = await fetch(url.split('?')[0]!);
    const badFormat = await app.request('POST', '/v1/reports', { body: { kind: 'outcomes', ...period, format: 'docx' } });
    const badZone = await app.request('POST', '/v1/reports', { body: { kind: 'outcomes', ...period, timeZone: 'Mars/Olympus' } });
    const badCursor = await app.request('GET', '/v1/reports?cursor=nope');

    expect([altered.status, unsigned.status]).toEqual([403, 403]);
    expect([badFormat.status, badFormat.body.error.details]).toEqual([400, { field: 'format' }]);
    expect([badZone.status, badZone.body.error.details]).toEqual([400, { field: 'timeZone' }]);
    expect([badCursor.status, badCursor.body.error.details]).toEqual([400, { parameter: 'cursor' }]);
  }, 120_000);

  it('keeps schedules with their next three runs in their own zones, refuses a research schedule, and test-sends a link to the outbox', async () => {
    const schedules = [
      { id: 'weekly-ny', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'America/New_York', period: 'previous_week', formats: ['html', 'csv'], recipients: ['lead@clinic.example'], enabled: true },
      { id: 'daily-london', kind: 'operations', cron: '30 6 * * *', timeZone: 'europe/london', period: 'previous_day', formats: ['pdf'], recipients: [], enabled: true },
    ];
    const put = await app.request('PUT', '/v1/report-schedules', { body: { schedules } });
    const got = await app.request('GET', '/v1/report-schedules');
    const research = await app.request('PUT', '/v1/report-schedules', { body: { schedules: [{ ...schedules[0], kind: 'research' }] } });

    expect(put.status).toBe(200);
    expect(got.body).toEqual(put.body);
    expect(got.body.schedules.map((each: { timeZone: string }) => each.timeZone)).toEqual(['America/New_York', 'Europe/London']);
    for (const next of got.body.schedules[0].next as string[]) expect(next).toMatch(/T08:00:00-0[45]:00$/);
    for (const next of got.body.schedules[1].next as string[]) expect(next).toMatch(/T06:30:00\+0[01]:00$/);
    expect([research.status, research.body.error.details]).toEqual([400, { field: 'schedules.0.kind' }]);

    const test = await app.request('POST', '/v1/report-schedules/weekly-ny/test');
    expect(test.status).toBe(202);
    const { page } = await app.madeReport(test.body.id as string);
    const mails = outbox(app).filter((line) => line['report'] === true);

    expect(page).toMatchObject({ test: true, scheduleId: 'weekly-ny', deliveries: [{ kind: 'test', status: 'sent', recipients: 1 }] });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ channel: 'email', to: ['lead@clinic.example'], subject: expect.stringMatching(/^\[TEST\] Therapeutic outcomes report \d{4}-W\d\d$/) });
    const link = /(http:\/\/\S+\/v\d+\.html\?\S+)/.exec(String(mails[0]!['text']))![1]!;
    const html = await fetch(link);
    expect([html.status, html.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await html.text()).toContain('<html');
    expect((await app.request('POST', '/v1/report-schedules/no-such/test')).status).toBe(404);
  }, 120_000);
});
