import { randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import { extractText, getDocumentProxy } from 'unpdf';
import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { EMBEDDED_MIGRATIONS_DIR, PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlAlertStore } from '../../functions/adapters/pg/sql-alert-store';
import { SqlAnomalyStore } from '../../functions/adapters/pg/sql-anomaly-stores';
import { SqlDeadLetterQueue } from '../../functions/adapters/pg/sql-dead-letter-queue';
import { SqlOperationalMinutes } from '../../functions/adapters/pg/sql-operational-minutes';
import { SqlRollupStore } from '../../functions/adapters/pg/sql-rollup-store';
import { csvRenderer } from '../../functions/adapters/report-formats/csv';
import { htmlRenderer } from '../../functions/adapters/report-formats/html';
import { pdfRenderer } from '../../functions/adapters/report-formats/pdf';
import { xlsxReportRenderer } from '../../functions/adapters/report-formats/xlsx';
import type { MinuteValue, OperationalMinutes } from '../../functions/domain/anomaly/watched-series';
import type { EventType, StoredEvent } from '../../functions/domain/events/schema';
import { cellText, type ReportCell, type ReportDocument, type ReportTable } from '../../functions/domain/reports/document';
import type { Anomaly, OperationalSeries } from '../../functions/ports/anomalies';
import type { FiringAlert } from '../../functions/ports/alerts';
import type { ReportProgress, ReportSource } from '../../functions/ports/reports';
import { reportSources } from '../../functions/config/report-sources';
import { contractOnBothDatabases } from '../support/both-databases';
import { SAMPLE_ATTRIBUTES } from '../support/events';

/*
 * The operational report over real stores, with planted events, ingest minutes, alerts,
 * anomalies and dead letters whose figures are known: the week of 22 March 2027 in London, whose
 * Sunday is 23 hours long (summer time starts), against the week before it.
 */

const K = 3;
const ZONE = 'Europe/London';
const PERIOD = { from: '2027-03-22T00:00:00.000Z', to: '2027-03-28T23:00:00.000Z', timeZone: ZONE, label: '2027-W12' };
const NOW = new Date('2027-03-29T08:00:00.000Z');
const utc = (day: number, hour: number, minute = 0) => new Date(Date.UTC(2027, 2, day, hour, minute));
const MINUTE = 60_000;

// What must never reach a report: a user id, a pseudonym and e-mail addresses, planted where the
// stores keep them (an event's subject, an alert's subject, labels and summary, a dead letter's
// partition key, data and reason).
const CANARY_USER = 'canary-user-8f14e45f';
const CANARY_EMAILS = ['canary0@example.org', 'canary1@example.org', 'canary2@example.org'];
const CANARIES = [CANARY_USER, ...CANARY_EMAILS];

function event(type: EventType, subject: string, at: Date): StoredEvent {
  return {
    v: 1,
    eventId: randomUUID(),
    type,
    occurredAt: at.toISOString(),
    receivedAt: at.toISOString(),
    subject,
    session: 'ab'.repeat(32),
    attributes: SAMPLE_ATTRIBUTES[type],
    context: { platform: 'ios' },
  } as StoredEvent;
}

const user = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

/**
 * Heartbeats from five users every day (two each this week, one each the week before), three moods
 * on the 23rd; on the 24th one user's crisis signal and three users' sessions. The release gate
 * withholds the crisis signal (one user), and then the sessions too: the day's total less the
 * heartbeats would otherwise be that one user's signal.
 */
function plantedEvents(): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (let day = 0; day < 7; day += 1) {
    for (let n = 1; n <= 5; n += 1) {
      // 11:00 UTC is late morning in London on every day of both weeks, before and after the change.
      events.push(event('engagement.heartbeat', user(n), utc(22 + day, 11)), event('engagement.heartbeat', user(n), utc(22 + day, 11, 30)));
      events.push(event('engagement.heartbeat', user(n), utc(15 + day, 11)));
    }
  }
  for (let n = 1; n <= 3; n += 1) events.push(event('mood.reported', user(n), utc(23, 14)));
  for (let n = 1; n <= 3; n += 1) events.push(event('session.started', user(n), utc(24, 11, 15)));
  events.push(event('crisis.signal', CANARY_USER, utc(24, 9)));
  return events;
}

const OPERATIONAL: OperationalMinutes = {
  ingestErrors: [
    { t: utc(21, 23, 59).getTime(), value: 100 }, // before the period
    { t: utc(23, 10).getTime(), value: 4 },
    { t: utc(23, 10, 1).getTime(), value: 2 },
    { t: utc(25, 9).getTime(), value: 5 },
  ],
  ingestLatencyP95Ms: [
    { t: utc(22, 10).getTime(), value: 100 },
    { t: utc(22, 10, 1).getTime(), value: 200 },
    { t: utc(22, 10, 2).getTime(), value: 300 },
    { t: utc(26, 12).getTime(), value: 50 },
  ],
};

function alert(id: string, rule: string, severity: 'critical' | 'warning', at: Date): FiringAlert {
  return {
    id,
    fingerprint: `fp-${id}`,
    rule,
    severity,
    subject: `user:${CANARY_USER}`,
    labels: { rule, severity, subject: `user:${CANARY_USER}`, email: CANARY_EMAILS[1]! },
    summary: `signal from ${CANARY_EMAILS[1]}`,
    routing: { channels: ['sns'], groupBy: ['rule'], repeatIntervalSec: 600 },
    at,
  };
}

async function plantAlerts(db: SqlDatabase): Promise<void> {
  const alerts = new SqlAlertStore(db);
  await alerts.upsertFiring(alert('before', 'crisis-signal', 'critical', utc(21, 8)));
  for (const [day, minutes] of [[22, 10], [23, 20], [24, 60]] as const) {
    await alerts.upsertFiring(alert(`crisis-${day}`, 'crisis-signal', 'critical', utc(day, 8)));
    await alerts.acknowledge(`crisis-${day}`, 'clinician-1', new Date(utc(day, 8).getTime() + minutes * MINUTE));
  }
  await alerts.upsertFiring(alert('quiet-26', 'quiet-user', 'warning', utc(26, 9)));
  await alerts.resolve({ fingerprint: 'fp-quiet-26', at: utc(26, 10), notificationId: 'r-quiet-26', now: utc(26, 10) });
  await alerts.upsertFiring(alert('quiet-27', 'quiet-user', 'warning', utc(27, 9)));
}

function anomaly(series: string, type: string | undefined, t: Date, direction: 'spike' | 'dip', score: number, users: number | null): Anomaly {
  return { series, name: type ? 'events.per_minute' : 'ingest.errors_per_minute', labels: { ...(type && { type }), note: CANARY_EMAILS[0]! }, detector: 'robust_z', t, value: 10, expected: 2, score, direction, users };
}

async function plantAnomalies(db: SqlDatabase): Promise<void> {
  const heartbeat = 'events.per_minute{type=engagement.heartbeat}';
  await new SqlAnomalyStore(db).record([
    anomaly('ingest.errors_per_minute', undefined, utc(23, 10), 'spike', 8, null),
    anomaly(heartbeat, 'engagement.heartbeat', utc(24, 11), 'spike', 6, 5),
    anomaly(heartbeat, 'engagement.heartbeat', utc(25, 11), 'dip', 4.5, 5),
    anomaly(heartbeat, 'engagement.heartbeat', utc(20, 11), 'spike', 9, 5), // before the period
    // A minute of one user's crisis signal: under k, never shown.
    anomaly('events.per_minute{type=crisis.signal}', 'crisis.signal', utc(24, 9), 'spike', 12, 1),
  ]);
}

async function plantDeadLetters(db: SqlDatabase): Promise<void> {
  const queue = new SqlDeadLetterQueue(db);
  const letters = [
    { consumer: 'detect', reason: 'BatchItemFailure', records: 3, at: utc(10, 0) },
    { consumer: 'aggregate', reason: `FunctionError: bad event from ${CANARY_EMAILS[2]}`, records: 2, at: utc(23, 11) },
    { consumer: 'aggregate', reason: 'BatchItemFailure', records: 1, at: utc(24, 12) },
  ];
  for (const [i, letter] of letters.entries()) {
    await queue.send({
      consumer: letter.consumer,
      shardId: 'shardId-000000000000',
      firstSequenceNumber: String(i * 10),
      lastSequenceNumber: String(i * 10 + letter.records - 1),
      reason: letter.reason,
      attempts: 3,
      records: Array.from({ length: letter.records }, (_, r) => ({ sequenceNumber: String(i * 10 + r), partitionKey: CANARY_USER, data: Buffer.from(JSON.stringify({ email: CANARY_EMAILS[2] })).toString('base64') })),
    });
    // The queue stamps letters with the database's clock: planted back into the weeks reported.
    await db.query('UPDATE dead_letters SET created_at = $1 WHERE id = (SELECT max(id) FROM dead_letters)', [letter.at.toISOString()]);
  }
}

async function plantedSource(db: SqlDatabase): Promise<ReportSource> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  const rollups = new SqlRollupStore(db);
  await rollups.applyEvents(plantedEvents());
  await Promise.all([plantAlerts(db), plantAnomalies(db), plantDeadLetters(db)]);
  // The minutes before 25 March are past the live source's horizon (CloudWatch's one-minute data,
  // the runtime's counters) and only the series watch kept them; one of them the live source
  // still holds too, with the kept copy stale, and the live value is the one reported.
  const liveFrom = utc(25, 0).getTime();
  const overlap = utc(22, 10, 2).getTime();
  const within = (from: number, to: number) => (m: MinuteValue) => m.t >= from && m.t < to;
  await new SqlOperationalMinutes(db).keep({
    ingestErrors: OPERATIONAL.ingestErrors.filter(within(0, liveFrom)),
    ingestLatencyP95Ms: OPERATIONAL.ingestLatencyP95Ms.filter(within(0, liveFrom)).map((m) => (m.t === overlap ? { ...m, value: 999 } : m)),
  });
  const live = (m: MinuteValue) => m.t >= liveFrom || m.t === overlap;
  const operational: OperationalSeries = {
    readMinutes: async (from, to) => ({
      ingestErrors: OPERATIONAL.ingestErrors.filter(live).filter(within(from, to)),
      ingestLatencyP95Ms: OPERATIONAL.ingestLatencyP95Ms.filter(live).filter(within(from, to)),
    }),
  };
  return reportSources({ db, deadLetters: new SqlDeadLetterQueue(db), operational, k: K, clock: { now: () => NOW } }).operations;
}

function table(document: ReportDocument, sectionId: string, index = 0): ReportTable {
  const tables = document.sections.find((section) => section.id === sectionId)?.blocks.filter((block): block is ReportTable => block.kind === 'table') ?? [];
  const found = tables[index];
  if (!found) throw new Error(`no table ${index} in section ${sectionId}`);
  return found;
}

const row = (found: ReportTable, first: string): readonly ReportCell[] | undefined => found.rows.find((cells) => cells[0] === first);
const WITHHELD = { withheld: 'k_anonymity' };
const NOT_ENOUGH = { withheld: 'not_enough_data' };

function expectDocumentFigures(document: ReportDocument, progress: readonly ReportProgress[]): void {
  expect(document).toMatchObject({ kind: 'operations', title: 'Operations, 2027-W12', period: PERIOD, generatedAt: NOW.toISOString(), k: K });
  // The newest data: the heartbeats of Sunday 28th at 11:30 UTC, counted in their hour.
  expect(document.dataThrough).toBe('2027-03-28T12:00:00.000Z');
  expect(document.sections.map((section) => section.id)).toEqual(['volumes', 'ingest', 'alerts', 'anomalies', 'dead-letters']);
  expect(progress.map((step) => step.done)).toEqual([1, 2, 3, 4, 5]);
  expect(new Set(progress.map((step) => step.stage))).toEqual(new Set(['volumes', 'ingest', 'alerts', 'anomalies', 'dead letters']));
  expect(progress.every((step) => step.total === 5)).toBe(true);

  // Volumes: 77 events against 35, 70 of them heartbeats, and 3 moods; one user's crisis signal
  // and the sessions that would give it away withheld, not zero. A week is too short for a trend.
  const volumes = table(document, 'volumes');
  expect(row(volumes, 'All events (events, total)')).toEqual(['All events (events, total)', 77, NOT_ENOUGH, NOT_ENOUGH, NOT_ENOUGH, NOT_ENOUGH, expect.closeTo(1.2, 12), null]);
  expect(row(volumes, 'engagement.heartbeat (events, total)')?.slice(1, 2)).toEqual([70]);
  expect(row(volumes, 'engagement.heartbeat (events, total)')?.[6]).toBeCloseTo(1, 12);
  expect(row(volumes, 'mood.reported (events, total)')?.slice(1, 2)).toEqual([3]);
  expect(row(volumes, 'crisis.signal (events, total)')?.slice(1, 2)).toEqual([WITHHELD]);
  expect(row(volumes, 'session.started (events, total)')?.slice(1, 2)).toEqual([WITHHELD]);
  expect(row(volumes, 'assessment.completed (events, total)')?.slice(1, 2)).toEqual([0]);

  // Ingest: 6 rejections on the 23rd and 5 on the 25th; the latency of four minutes.
  const ingest = table(document, 'ingest');
  expect(ingest.rows).toHaveLength(8);
  expect(row(ingest, '2027-03-22')).toEqual(['2027-03-22', 0, 3, 200, 300]);
  expect(row(ingest, '2027-03-23')).toEqual(['2027-03-23', 6, 0, null, null]);
  expect(row(ingest, '2027-03-25')).toEqual(['2027-03-25', 5, 0, null, null]);
  expect(row(ingest, '2027-03-26')).toEqual(['2027-03-26', 0, 1, 50, 50]);
  expect(row(ingest, 'Whole period')).toEqual(['Whole period', 11, 4, 150, 300]);

  // Alerts: three crisis alerts acknowledged after 10, 20 and 60 minutes; two quiet-user alerts,
  // one resolved before anyone acknowledged it and one still firing.
  expect(table(document, 'alerts').rows).toEqual([
    ['crisis-signal', 'critical', 3, 3, 0, null, 0, 0],
    ['quiet-user', 'warning', 2, 0, 1, utc(27, 9).toISOString(), 1, 0],
    ['All rules', null, 5, 3, 1, utc(27, 9).toISOString(), 1, 0],
  ]);
  // A median of three acknowledgements; too few for a 90th percentile.
  expect(table(document, 'alerts', 1).rows).toEqual([
    ['crisis-signal', 'critical', 3, 20, NOT_ENOUGH],
    ['quiet-user', 'warning', 0, null, null],
    ['All rules', null, 3, 20, NOT_ENOUGH],
  ]);

  // Anomalies: the crisis minute of one user is left out.
  expect(table(document, 'anomalies').rows).toEqual([
    ['events.per_minute (type engagement.heartbeat)', 'dip', 1, utc(25, 11).toISOString(), utc(25, 11).toISOString(), 4.5],
    ['events.per_minute (type engagement.heartbeat)', 'spike', 1, utc(24, 11).toISOString(), utc(24, 11).toISOString(), 6],
    ['ingest.errors_per_minute', 'spike', 1, utc(23, 10).toISOString(), utc(23, 10).toISOString(), 8],
  ]);

  // Dead letters: two in the period; three waiting, the oldest since 10 March (19 days and 8 hours).
  expect(table(document, 'dead-letters').rows).toEqual([
    ['aggregate', 'BatchItemFailure', 1, 1, utc(24, 12).toISOString(), utc(24, 12).toISOString()],
    ['aggregate', 'FunctionError', 1, 2, utc(23, 11).toISOString(), utc(23, 11).toISOString()],
  ]);
  expect(table(document, 'dead-letters', 1).rows).toEqual([
    ['aggregate', 2, 3, utc(23, 11).toISOString(), (NOW.getTime() - utc(23, 11).getTime()) / 3_600_000],
    ['detect', 1, 3, utc(10, 0).toISOString(), 464],
    ['All consumers', 3, 6, utc(10, 0).toISOString(), 464],
  ]);
}

async function pdfText(document: ReportDocument): Promise<string> {
  const proxy = await getDocumentProxy(new Uint8Array(await pdfRenderer.render(document)));
  const { text } = await extractText(proxy, { mergePages: true });
  return text;
}

async function xlsxCells(document: ReportDocument): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Uint8Array.from(await xlsxReportRenderer.render(document)).buffer);
  return workbook;
}

/** Every cell of the workbook as text, for the canary search. */
function workbookText(workbook: ExcelJS.Workbook): string {
  const texts: string[] = [];
  workbook.eachSheet((sheet) => {
    texts.push(sheet.name);
    sheet.eachRow((cells) => cells.eachCell((cell) => texts.push(String(cell.text))));
  });
  return texts.join('\n');
}

async function expectRenderedFigures(document: ReportDocument): Promise<void> {
  const text = await pdfText(document);
  // A row's cells in order, each as every format shows it; a cell may wrap onto the next line.
  const shown = (...cells: string[]) => new RegExp(`(^|\\n)${cells.map((cell) => cell.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+')).join('\\s+')}(\\n|$)`);
  const expectRowInPdf = (found: ReportTable, first: string) => {
    expect(text).toMatch(shown(...row(found, first)!.map((cell, i) => cellText(cell, found.columns[i]!.format, ZONE))));
  };
  expect(text).toMatch(shown('crisis-signal critical 3 3 0 – 0 0'));
  expect(text).toMatch(shown('crisis-signal critical 3 20.00 not enough data'));
  expect(text).toMatch(shown('quiet-user warning 2 0 1 2027-03-27 09:00 1 0'));
  expect(text).toMatch(shown('quiet-user warning 0 – –'));
  expect(text).toMatch(shown('Whole period 11 4 150.00 300.00'));
  expect(text).toMatch(shown('All consumers 3 6 2027-03-10 00:00 464.00'));
  for (const [section, first] of [['volumes', 'engagement.heartbeat (events, total)'], ['volumes', 'mood.reported (events, total)'], ['volumes', 'crisis.signal (events, total)'], ['ingest', '2027-03-22'], ['anomalies', 'ingest.errors_per_minute']] as const) {
    expectRowInPdf(table(document, section), first);
  }
  expectRowInPdf(table(document, 'dead-letters'), 'aggregate');

  // The workbook keeps the numbers as numbers, a withheld figure as its reason.
  const workbook = await xlsxCells(document);
  const rowsStarting = (sheetName: string, first: string, width: number) => {
    const found: unknown[][] = [];
    workbook.getWorksheet(sheetName)!.eachRow((cells) => {
      if (cells.getCell(1).value === first) found.push(Array.from({ length: width }, (_, i) => cells.getCell(i + 1).value));
    });
    return found;
  };
  expect(rowsStarting('Alerts', 'crisis-signal', 5)).toEqual([
    ['crisis-signal', 'critical', 3, 3, 0],
    ['crisis-signal', 'critical', 3, 20, 'not enough data'],
  ]);
  expect(rowsStarting('Ingest errors and latency', 'Whole period', 5)).toEqual([['Whole period', 11, 4, 150, 300]]);
  expect(rowsStarting('Event volumes', 'engagement.heartbeat (events, total)', 2)).toEqual([['engagement.heartbeat (events, total)', 70]]);
  expect(rowsStarting('Event volumes', 'crisis.signal (events, total)', 2)).toEqual([['crisis.signal (events, total)', 'suppressed']]);

  const rendered = [text, workbookText(workbook), (await csvRenderer.render(document)).toString('utf8'), (await htmlRenderer.render(document)).toString('utf8'), JSON.stringify(document)];
  for (const output of rendered) for (const canary of CANARIES) expect(output).not.toContain(canary);
}

/** Against a baseline (here the week before, as a stored baseline period would be): by a day's mean, 11 events a day against 5. */
async function expectBaselineComparison(source: ReportSource): Promise<void> {
  const baseline = { from: '2027-03-15T00:00:00.000Z', to: '2027-03-22T00:00:00.000Z' };
  const against = await source({ period: PERIOD, parameters: { baseline }, release: null }, () => undefined);
  expect(row(table(against, 'volumes'), 'All events (events, mean of a day)')?.slice(1, 2)).toEqual([11]);
  expect(row(table(against, 'volumes'), 'All events (events, mean of a day)')?.[7]).toBeCloseTo(1.2, 12);
  await expect(source({ period: PERIOD, parameters: { baseline: { ...baseline, to: baseline.from } }, release: null }, () => undefined)).rejects.toThrow("the operations run's parameters.baseline.to must be after from");
}

contractOnBothDatabases(
  'the operational report',
  'gathers the planted volumes, ingest minutes, alerts, anomalies and dead letters of a week, renders them to PDF and XLSX, and never shows whom they concern',
  async (db) => {
    const source = await plantedSource(db);
    const progress: ReportProgress[] = [];
    const document = await source({ period: PERIOD, parameters: {}, release: null }, (step) => progress.push(step));
    expectDocumentFigures(document, progress);
    await expectRenderedFigures(document);
    await expectBaselineComparison(source);
  },
  120_000,
);
