import ExcelJS from 'exceljs';
import { extractText, getDocumentProxy } from 'unpdf';
import { cryptoRandomBits } from '../../../functions/adapters/crypto-random';
import { pdfRenderer } from '../../../functions/adapters/report-formats/pdf';
import { xlsxReportRenderer } from '../../../functions/adapters/report-formats/xlsx';
import { INSUFFICIENT_MEAN, releaseResearch, withheldLine, type ReportLine } from '../../../functions/domain/privacy/research-release';
import { cellText, type ReportTable } from '../../../functions/domain/reports/document';
import type { ReportProgress } from '../../../functions/ports/reports';
import { makeResearchReportSource, researchDocument } from '../../../functions/use-cases/report-sources/research';

const K = 5;
const PERIOD = { from: '2027-03-01T00:00:00.000Z', to: '2027-04-01T00:00:00.000Z', timeZone: 'UTC', label: '2027-03' };
const PARAMETERS = { from: PERIOD.from, to: PERIOD.to, epsilon: 1, mechanism: 'laplace', maxContributionsPerUser: 10 };
const NOW = new Date('2027-04-02T09:00:00.000Z');

/**
 * A release as the research report draws it (real noise): a counter, a distribution whose mean is
 * released, one whose mean the count cannot carry, and a metric withheld under k.
 */
function release(): ReportLine[] {
  const random = cryptoRandomBits();
  const rows = (users: number, value: number) => Array.from({ length: users }, (_, i) => ({ subjectHash: BigInt(i + 1), value }));
  const share = { mechanism: 'laplace' as const, epsilon: 1 / 3, maxContributionsPerUser: 10 };
  const duration = releaseResearch(random, rows(6, 600), { metric: 'session.duration', ...share, epsilon: 0.01 });
  return [
    { metric: 'sessions', release: releaseResearch(random, rows(200, 1), { metric: 'sessions', ...share }) },
    // 4,000 values: the mean's interval is about ±0.03 wide, always released.
    { metric: 'mood.valence', release: releaseResearch(random, rows(4_000, 0.25), { metric: 'mood.valence', ...share }) },
    // Six values at ε = 0.01: the count almost never carries a mean; where the noise let it, it is withheld here all the same.
    { metric: 'session.duration', release: { ...duration, mean: undefined, suppressed: [INSUFFICIENT_MEAN] } },
    { metric: 'assessment.score', suppressed: withheldLine('k_anonymity', K) },
  ];
}

const tableOf = (document: ReturnType<typeof researchDocument>, id: string) => document.sections.find((section) => section.id === id)!.blocks.find((block): block is ReportTable => block.kind === 'table')!;
const rowOf = (table: ReportTable, metric: string) => table.rows.find(([first]) => typeof first === 'string' && first.startsWith(`${metric} (`))!;

describe('the research report document', () => {
  const lines = release();
  const run = { period: PERIOD, parameters: PARAMETERS, release: JSON.parse(JSON.stringify(lines)) as unknown };
  const document = researchDocument(run, { k: K, generatedAt: NOW });
  const released = (metric: string) => {
    const line = lines.find((each) => each.metric === metric)!;
    if (!('release' in line)) throw new Error(`${metric} was withheld`);
    return line.release;
  };

  it('is the release the run carries: each figure with its noise and 95 % interval, drawing nothing again', () => {
    expect(document).toMatchObject({ kind: 'research', title: 'Research release, 2027-03', period: PERIOD, generatedAt: NOW.toISOString(), dataThrough: PERIOD.to, k: K });
    expect(document.sections.map((section) => section.id)).toEqual(['release', 'counts', 'sums', 'means']);
    const sessions = released('sessions').count;
    expect(rowOf(tableOf(document, 'counts'), 'sessions')).toEqual(['sessions (sessions)', sessions.value, sessions.standardDeviation, sessions.interval.lower, sessions.interval.upper, null]);
    const mood = released('mood.valence');
    expect(rowOf(tableOf(document, 'counts'), 'mood.valence')).toEqual(['mood.valence (values)', mood.count.value, mood.count.standardDeviation, mood.count.interval.lower, mood.count.interval.upper, null]);
    expect(rowOf(tableOf(document, 'sums'), 'mood.valence').slice(1, 5)).toEqual([mood.sum!.value, mood.sum!.standardDeviation, mood.sum!.interval.lower, mood.sum!.interval.upper]);
    expect(rowOf(tableOf(document, 'means'), 'mood.valence').slice(1, 5)).toEqual([mood.mean!.value, mood.mean!.standardDeviation, mood.mean!.interval.lower, mood.mean!.interval.upper]);
    // A counter has no sum or mean.
    expect(tableOf(document, 'sums').rows.map((row) => row[0])).toEqual(['mood.valence (valence from -1 to 1)', 'session.duration (s)', 'assessment.score (points of the instrument\'s scale)']);
  });

  it('shows withheld figures as withheld cells with their reason, never as numbers', () => {
    const notEnough = { withheld: 'not_enough_data' };
    const suppressed = { withheld: 'k_anonymity' };
    expect(rowOf(tableOf(document, 'means'), 'session.duration')).toEqual(['session.duration (s)', notEnough, notEnough, notEnough, notEnough, INSUFFICIENT_MEAN.message]);
    expect(typeof rowOf(tableOf(document, 'sums'), 'session.duration')[1]).toBe('number');
    for (const id of ['counts', 'sums', 'means']) {
      expect(rowOf(tableOf(document, id), 'assessment.score').slice(1)).toEqual([suppressed, suppressed, suppressed, suppressed, withheldLine('k_anonymity', K).message]);
    }
  });

  it('states epsilon, delta, the mechanism and what each metric spent', () => {
    const text = (document.sections[0]!.blocks[0] as { text: string }).text;
    expect(text).toContain('epsilon = 1, delta = 0, with the Laplace mechanism');
    expect(text).toContain('shared evenly among the 3 metrics released');
    expect(text).toContain('bounded to 10 per metric');
    const spent = tableOf(document, 'release');
    expect(spent.rows.find((row) => row[0] === 'mood.valence')!.slice(1, 3)).toEqual(['0.333', '0']);
    expect(spent.rows.find((row) => row[0] === 'mood.valence')![3]).toMatch(/^discrete Laplace, scale /);
    expect(spent.rows.find((row) => row[0] === 'assessment.score')!.slice(1)).toEqual(['0', '0', null, null, null]);
  });

  it('renders to a PDF whose text holds the figures as every format shows them', async () => {
    const proxy = await getDocumentProxy(new Uint8Array(await pdfRenderer.render(document)));
    const { text } = await extractText(proxy, { mergePages: true });
    const flat = text.replace(/\s+/g, ' ');
    for (const id of ['counts', 'sums', 'means']) {
      const table = tableOf(document, id);
      for (const row of table.rows) {
        // The figures of a row in order; a long cell may wrap, which the flattening undoes.
        expect(flat).toContain(row.slice(1, 5).map((cell, i) => cellText(cell, table.columns[i + 1]!.format, 'UTC')).join(' '));
      }
    }
    expect(flat).toContain('epsilon = 1, delta = 0');
    expect(flat).not.toContain('?');
  });

  it('renders to a workbook that keeps the figures as numbers', async () => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Uint8Array.from(await xlsxReportRenderer.render(document)).buffer);
    const sheet = workbook.getWorksheet('Counts')!;
    let found: unknown[] | undefined;
    sheet.eachRow((row) => {
      if (row.getCell(1).value === 'sessions (sessions)') found = [2, 3, 4, 5].map((column) => row.getCell(column).value);
    });
    const sessions = released('sessions').count;
    expect(found).toEqual([sessions.value, sessions.standardDeviation, sessions.interval.lower, sessions.interval.upper]);
  });

  it('refuses a run whose release or parameters are not what a research request makes, naming the field', () => {
    expect(() => researchDocument({ ...run, release: null }, { k: K, generatedAt: NOW })).toThrow(/^the research run's release /);
    expect(() => researchDocument({ ...run, release: [{ metric: 'sessions', release: { count: { value: 'many' } } }] }, { k: K, generatedAt: NOW })).toThrow(/release\.0/);
    expect(() => researchDocument({ ...run, parameters: { ...PARAMETERS, epsilon: undefined } }, { k: K, generatedAt: NOW })).toThrow(/^the research run's parameters\.epsilon is required/);
  });

  it('as a report source, reads the run and says it has gathered its one section', async () => {
    const progress: ReportProgress[] = [];
    const made = await makeResearchReportSource({ clock: { now: () => NOW }, k: K })(run, (step) => progress.push(step));
    expect(made).toEqual(document);
    expect(progress).toEqual([{ stage: 'release', done: 1, total: 1 }]);
  });
});
