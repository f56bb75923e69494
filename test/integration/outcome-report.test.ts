import { createHash, randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import { extractText, getDocumentProxy } from 'unpdf';
import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlPatternStore } from '../../functions/adapters/pg/sql-behavior-patterns';
import { SqlCohortPopulation, SqlCohortStore } from '../../functions/adapters/pg/sql-cohorts';
import { SqlOutcomePredictionStore } from '../../functions/adapters/pg/sql-outcome-predictions';
import { SqlRollupStore } from '../../functions/adapters/pg/sql-rollup-store';
import { SqlFeatureRows } from '../../functions/adapters/pg/sql-user-features';
import { pdfRenderer } from '../../functions/adapters/report-formats/pdf';
import { xlsxReportRenderer } from '../../functions/adapters/report-formats/xlsx';
import { behaviourModelSteps } from '../../functions/config/behaviour-models';
import { plantedPopulation } from '../../functions/domain/demo/planted-population';
import type { IncomingEvent, StoredEvent } from '../../functions/domain/events/schema';
import { cellText, type ReportCell, type ReportDocument, type ReportTable } from '../../functions/domain/reports/document';
import type { ReportProgress } from '../../functions/ports/reports';
import { makeCohorts } from '../../functions/use-cases/cohorts';
import { makeOutcomesReport } from '../../functions/use-cases/report-sources/outcomes';
import { contractOnBothDatabases } from '../support/both-databases';
import { storedEvent } from '../support/stored-event';

/*
 * The therapeutic-outcome report over a planted history (150 users, 14 weeks to the end of
 * November 2026), on both databases: its figures counted again from the events themselves, its
 * small groups withheld, and the numbers found again in the PDF's text and the XLSX's cells.
 * A period's figure is released only when every stored day it sums is (PRIVACY.md rule 6), and
 * 150 users fill few intervention cells a day, whose suppression then spreads to their neighbours
 * (rule 2): the interventions are planted by hand instead, a type of 12 users every day, released,
 * and two of 3 and 8, withheld, together enough (11 people, two cells) to leave the 12 released.
 */

const K = 10;
const DAY = 86_400_000;
const END = new Date('2026-12-01T00:00:00Z');
const NOW = new Date('2026-12-02T00:00:00Z');
// November in London is on GMT: its local days are stored UTC days. October began in summer time.
const PERIOD = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', timeZone: 'Europe/London', label: '2026-11' };
const OCTOBER = { from: Date.parse('2026-09-30T23:00:00.000Z'), to: Date.parse(PERIOD.from) };
const NOVEMBER = { from: Date.parse(PERIOD.from), to: Date.parse(PERIOD.to) };
// The last week of October after the clocks went back: six GMT days.
const BASELINE = { from: '2026-10-26T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' };

const pseudonym = (userId: string) => createHash('sha256').update(userId).digest('hex');
const { events } = plantedPopulation({ seed: 7, end: END, users: 150, weeks: 14 });
/**
 * Each of `users` users gets an intervention of `type` every day of October and November at
 * `hour` UTC, completing one, skipping one and abandoning one.
 */
const daily = (interventionType: 'breathing' | 'grounding' | 'crisis_support', users: number, hour: number): IncomingEvent[] =>
  Array.from({ length: 61 * users }, (_, i) =>
    (['completed', 'skipped', 'abandoned'] as const).map(
      (completion, c): IncomingEvent => ({
        eventId: randomUUID(),
        type: 'intervention.delivered',
        occurredAt: new Date(Date.parse('2026-10-01T00:00:00Z') + Math.floor(i / users) * DAY + hour * 3_600_000 + c * 60_000).toISOString(),
        userId: `${interventionType}-${i % users}`,
        sessionId: `${interventionType}-${i}`,
        attributes: { interventionType, urgency: 'standard', completion },
      }),
    ),
  ).flat();
const interventionsPlanted = [...daily('breathing', 12, 12), ...daily('grounding', 3, 13), ...daily('crisis_support', 8, 14)];
const stored: StoredEvent[] = [...[...events()].filter((event) => event.type !== 'intervention.delivered'), ...interventionsPlanted].map((event) => storedEvent(event, pseudonym));

const inWindow = (at: number, window: { from: number; to: number }) => at >= window.from && at < window.to;
const atOf = (event: StoredEvent) => Date.parse(event.occurredAt);

/** What the report should say, counted from the events. */
function expected() {
  const novemberEvents = stored.filter((event) => inWindow(atOf(event), NOVEMBER));
  const count = (type: string, extra: (event: StoredEvent) => boolean = () => true) => novemberEvents.filter((event) => event.type === type && extra(event)).length;
  const interventions = new Map<string, { count: number }>();
  for (const event of novemberEvents) {
    if (event.type !== 'intervention.delivered') continue;
    const key = `${event.attributes.interventionType}:${event.attributes.completion}`;
    interventions.set(key, { count: (interventions.get(key)?.count ?? 0) + 1 });
  }
  // Whether every UTC day of November with events of this kind has k users or more (rule 6's condition for the month).
  const everyDayReleased = (selected: (event: StoredEvent) => boolean) => {
    const days = new Map<number, Set<string>>();
    for (const event of novemberEvents.filter(selected)) {
      const day = Math.floor(atOf(event) / DAY);
      days.set(day, (days.get(day) ?? new Set()).add(event.subject));
    }
    return [...days.values()].every((users) => users.size >= K);
  };
  return {
    sessionsReleased: everyDayReleased((event) => event.type === 'session.started'),
    completedReleased: everyDayReleased((event) => event.type === 'session.ended' && event.attributes.completed),
    sessions: count('session.started'),
    completed: count('session.ended', (event) => event.type === 'session.ended' && event.attributes.completed),
    activeUsers: new Set(novemberEvents.map((event) => event.subject)).size,
    interventions,
    outcomes: { november: outcomeTallies(NOVEMBER), october: outcomeTallies(OCTOBER) },
    iosUsers: new Set(stored.filter((event) => event.context.platform === 'ios').map((event) => event.subject)).size,
  };
}

/**
 * Reliable improvement by week 8 counted from each user's scores: the baseline is the first score
 * of the user's first two weeks (from the UTC day of their first event), the outcome the last
 * score in the 56 days after it; a user counts in the window their 56th day ends in.
 */
function outcomeTallies(window: { from: number; to: number }) {
  const bySubject = new Map<string, StoredEvent[]>();
  for (const event of stored) bySubject.set(event.subject, [...(bySubject.get(event.subject) ?? []), event]);
  const rules = { 'PHQ-9': { minDrop: 6, halved: true }, 'GAD-7': { minDrop: 4, halved: false } } as const;
  const tallies = { 'PHQ-9': { users: 0, improved: 0 }, 'GAD-7': { users: 0, improved: 0 } };
  for (const list of bySubject.values()) {
    const firstDay = Math.floor(Math.min(...list.map(atOf)) / DAY);
    for (const instrument of ['PHQ-9', 'GAD-7'] as const) {
      const scores = list
        .flatMap((event) => (event.type === 'assessment.completed' && event.attributes.instrument === instrument ? [{ at: atOf(event), score: event.attributes.score }] : []))
        .sort((a, b) => a.at - b.at || a.score - b.score);
      const baseline = scores[0];
      if (!baseline || baseline.at >= (firstDay + 14) * DAY) continue;
      const end = baseline.at + 56 * DAY;
      if (!inWindow(end, window) || end > NOW.getTime()) continue;
      const last = scores.filter((score) => score.at > baseline.at && score.at <= end).at(-1);
      const { minDrop, halved } = rules[instrument];
      tallies[instrument].users += 1;
      if (last && (baseline.score - last.score >= minDrop || (halved && baseline.score > 0 && last.score <= baseline.score / 2))) tallies[instrument].improved += 1;
    }
  }
  return tallies;
}

function table(document: ReportDocument, section: string, caption?: string): ReportTable {
  const blocks = document.sections.find((each) => each.id === section)?.blocks ?? [];
  const found = blocks.find((block): block is ReportTable => block.kind === 'table' && (caption === undefined || block.caption.startsWith(caption)));
  if (!found) throw new Error(`no table ${caption ?? ''} in section ${section}`);
  return found;
}

const row = (of: ReportTable, first: string): readonly ReportCell[] => {
  const found = of.rows.find((cells) => cells[0] === first);
  if (!found) throw new Error(`no row ${first} in ${of.caption}: ${of.rows.map((cells) => JSON.stringify(cells[0])).join(', ')}`);
  return found;
};

const WITHHELD = { withheld: 'k_anonymity' };

async function pdfText(document: ReportDocument): Promise<string> {
  const proxy = await getDocumentProxy(new Uint8Array(await pdfRenderer.render(document)));
  const { text } = await extractText(proxy, { mergePages: true });
  return text;
}

async function workbookOf(document: ReportDocument): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  // exceljs types `load` as taking an ArrayBuffer, which Node's Buffer no longer passes for.
  await workbook.xlsx.load(Uint8Array.from(await xlsxReportRenderer.render(document)).buffer);
  return workbook;
}

/** The numbers of the row that starts with `first` on a sheet, as exceljs read them back. */
function sheetRow(workbook: ExcelJS.Workbook, sheet: string, first: string): unknown[] {
  const worksheet = workbook.getWorksheet(sheet)!;
  for (let r = 1; r <= worksheet.rowCount; r += 1) {
    if (worksheet.getCell(r, 1).value === first) return Array.from({ length: worksheet.columnCount }, (_, c) => worksheet.getCell(r, c + 1).value);
  }
  throw new Error(`no row ${first} on sheet ${sheet}`);
}

async function expectOutcomeReport(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const rollups = new SqlRollupStore(db);
  for (let i = 0; i < stored.length; i += 2_000) await rollups.applyEvents(stored.slice(i, i + 2_000));
  const clock = { now: () => NOW };
  const patterns = new SqlPatternStore(db);
  const cohortsOf = (k: number) => makeCohorts({ store: new SqlCohortStore(db), population: new SqlCohortPopulation(db), patterns, clock, k, newId: randomUUID });
  await cohortsOf(K).create({ name: 'iOS users', definition: { attribute: { platform: 'ios' } } }, 'test');
  // The first few hours of the history: a handful of users, fewer than k.
  await cohortsOf(K).create({ name: 'First morning', definition: { firstSeen: { from: '2026-08-25T00:00:00Z', to: '2026-08-25T06:00:00Z' } } }, 'test');
  const fitted = new Map<string, Readonly<Record<string, unknown>> | undefined>();
  for (const step of behaviourModelSteps({ db, clock, k: K })) fitted.set(step.name, (await step.run(() => undefined))?.quality);

  const source = (k: number) =>
    makeOutcomesReport({ rollups, features: new SqlFeatureRows(db), cohorts: cohortsOf(k), patterns, predictions: new SqlOutcomePredictionStore(db), k, clock });
  const progress: ReportProgress[] = [];
  const document = await source(K)({ period: PERIOD, parameters: { baseline: BASELINE }, release: null }, (step) => progress.push(step));
  const truth = expected();

  expect(progress.map((step) => step.done)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(progress.every((step) => step.total === 6)).toBe(true);
  expect(document).toMatchObject({ kind: 'outcomes', period: PERIOD, k: K, generatedAt: NOW.toISOString() });
  // The history ends at midnight UTC, five hours before New York's month does: the data runs to the end of its last hour.
  const HOUR = 3_600_000;
  expect(document.dataThrough).toBe(new Date(Math.floor(Math.max(...stored.map(atOf)) / HOUR) * HOUR + HOUR).toISOString());
  expect(Date.parse(document.dataThrough!)).toBeLessThanOrEqual(END.getTime());

  // Totals of November in New York, read as one local month.
  const summary = table(document, 'summary');
  expect(row(summary, 'Sessions started')[1]).toEqual(truth.sessionsReleased ? truth.sessions : WITHHELD);
  expect(row(summary, 'Sessions completed')[1]).toEqual(truth.completedReleased ? truth.completed : WITHHELD);
  expect(row(summary, 'Active users')[1]).toBe(truth.activeUsers);
  expect(truth.sessionsReleased).toBe(true);
  expect(truth.sessions).toBeGreaterThan(1_000);

  // Engagement: the month's mean of a day over its 30 local days, and a baseline compared.
  const engagement = table(document, 'engagement');
  expect(row(engagement, 'Sessions started (sessions, mean of a day)')[1]).toBeCloseTo(truth.sessions / 30, 9);
  const baselineSessions = stored.filter((event) => event.type === 'session.started' && inWindow(atOf(event), { from: Date.parse(BASELINE.from), to: Date.parse(BASELINE.to) })).length;
  expect(row(engagement, 'Sessions started (sessions, mean of a day)')[7]).toBeCloseTo(truth.sessions / 30 / (baselineSessions / 6) - 1, 9);

  // Interventions: a type of fewer than k users a day withheld, one of k or more exact, and one without events
  // withheld too, as the answer cannot say which groups it left out.
  const interventions = table(document, 'interventions');
  const withheldRow = [WITHHELD, WITHHELD, WITHHELD, WITHHELD, WITHHELD];
  const totalOf = (type: string, completions = ['completed', 'skipped', 'abandoned']) => completions.reduce((sum, completion) => sum + (truth.interventions.get(`${type}:${completion}`)?.count ?? 0), 0);
  expect(totalOf('breathing')).toBe(30 * 12 * 3);
  expect(row(interventions, 'breathing').slice(1)).toEqual([totalOf('breathing'), totalOf('breathing', ['completed']), 1 / 3, 1 / 3, 0]);
  expect(row(interventions, 'grounding').slice(1)).toEqual(withheldRow);
  expect(row(interventions, 'crisis support').slice(1)).toEqual(withheldRow);
  expect(row(interventions, 'mindfulness').slice(1)).toEqual(withheldRow);

  // Assessment outcomes: users whose eighth week ended in November and October, and the share reliably improved.
  const assessments = table(document, 'assessments');
  for (const [label, instrument] of [['PHQ-9 (down 6 points or 50 %)', 'PHQ-9'], ['GAD-7 (down 4 points)', 'GAD-7']] as const) {
    const [, users, rate, , previousUsers] = row(assessments, label);
    const { users: n, improved } = truth.outcomes.november[instrument];
    expect(users).toEqual(n >= K ? n : n === 0 ? 0 : WITHHELD);
    if (typeof rate === 'number') expect(rate).toBeCloseTo(improved / n, 12);
    const before = truth.outcomes.october[instrument];
    expect(previousUsers).toEqual(before.users >= K ? before.users : before.users === 0 ? 0 : WITHHELD);
  }
  expect(truth.outcomes.november['PHQ-9'].users).toBeGreaterThanOrEqual(K);

  // Cohorts through GET /v1/cohorts' rule; the small one withheld, never 0.
  const cohorts = table(document, 'cohorts');
  expect(row(cohorts, 'First morning')[1]).toEqual(WITHHELD);
  expect(row(cohorts, 'iOS users')[1]).toBe(truth.iosUsers);
  const predictions = table(document, 'predictions', 'Predicted and observed');
  // The nightly run's model and fit, as it reported them.
  const model = fitted.get('outcomes')!;
  expect(row(predictions, 'All users')[1]).toBe(model['predicted']);
  expect(row(table(document, 'predictions', 'Model quality'), 'Accuracy')[1]).toBe(model['accuracy']);
  expect(row(table(document, 'predictions', 'Model quality'), 'Users tested on')[1]).toBe(model['testedOn']);
  expect(table(document, 'patterns', 'Engagement archetypes').rows).toHaveLength(fitted.get('patterns')!['archetypes'] as number);

  // The PDF's text holds the numbers as the report prints them.
  const text = await pdfText(document);
  for (const figure of [truth.sessions, truth.completed, truth.activeUsers, truth.iosUsers]) expect(text).toContain(cellText(figure, 'integer', PERIOD.timeZone));
  const phq9Rate = row(assessments, 'PHQ-9 (down 6 points or 50 %)')[2]!;
  expect(text).toContain(cellText(phq9Rate, 'percent', PERIOD.timeZone));
  expect(text).toContain('suppressed');

  // The XLSX keeps them as numbers.
  const workbook = await workbookOf(document);
  expect(sheetRow(workbook, 'Summary', 'Sessions started')[1]).toBe(truth.sessions);
  expect(sheetRow(workbook, 'Summary', 'Active users')[1]).toBe(truth.activeUsers);
  expect(sheetRow(workbook, 'Cohorts', 'iOS users')[1]).toBe(truth.iosUsers);
  expect(sheetRow(workbook, 'Interventions', 'breathing').slice(1, 4)).toEqual([totalOf('breathing'), totalOf('breathing', ['completed']), 1 / 3]);
  expect(sheetRow(workbook, 'Interventions', 'grounding')[1]).toBe('suppressed');
  expect(sheetRow(workbook, 'Cohorts', 'First morning')[1]).toBe('suppressed');

  // With k above the population, every figure about people is withheld, and none shows as zero.
  const strict = await source(1_000)({ period: PERIOD, parameters: {}, release: null }, () => undefined);
  expect(table(strict, 'summary').rows.map((cells) => cells[1])).toEqual([WITHHELD, WITHHELD, WITHHELD]);
  expect(row(table(strict, 'assessments'), 'PHQ-9 (down 6 points or 50 %)')[1]).toEqual(WITHHELD);
  expect(table(strict, 'interventions').rows.map((cells) => cells[1])).toEqual(Array(7).fill(WITHHELD));
  expect(row(table(strict, 'predictions', 'Predicted and observed'), 'All users').slice(1)).toEqual(Array(6).fill(WITHHELD));
  expect(table(strict, 'cohorts').rows.map((cells) => cells[1])).toEqual([WITHHELD, WITHHELD]);
  expect(strict.sections[0]!.blocks[0]).toMatchObject({ text: expect.stringContaining('No baseline period was given') });
}

contractOnBothDatabases('the therapeutic-outcome report', 'gathers a planted month into figures counted again from its events, withholds small groups, and prints them in PDF and XLSX', expectOutcomeReport, 600_000);
