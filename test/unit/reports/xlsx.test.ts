import ExcelJS from 'exceljs';
import { xlsxReportRenderer } from '../../../functions/adapters/report-formats/xlsx';
import type { ReportDocument, ReportSection } from '../../../functions/domain/reports/document';
import { SAMPLE_REPORT } from '../../support/report-document';

async function readBack(document: ReportDocument): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  // exceljs types `load` as taking an ArrayBuffer, which Node's Buffer no longer passes for.
  await workbook.xlsx.load(Uint8Array.from(await xlsxReportRenderer.render(document)).buffer);
  return workbook;
}

function sheet(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const found = workbook.getWorksheet(name);
  if (!found) throw new Error(`no sheet named ${name}; the workbook has ${workbook.worksheets.map((each) => each.name).join(', ')}`);
  return found;
}

/** A row's cells from column A on as [value, type, numFmt]: what a reader's Excel gets. */
function cells(worksheet: ExcelJS.Worksheet, row: number, width: number): [unknown, ExcelJS.ValueType, string | undefined][] {
  return Array.from({ length: width }, (_, index) => {
    const cell = worksheet.getCell(row, index + 1);
    return [cell.value, cell.type, cell.numFmt];
  });
}

/** The row whose first cell holds `text`. */
function rowOf(worksheet: ExcelJS.Worksheet, text: string): number {
  for (let row = 1; row <= worksheet.rowCount; row += 1) if (worksheet.getCell(row, 1).value === text) return row;
  throw new Error(`no row starts with ${text}`);
}

const utc = (iso: string) => new Date(iso);
const { Number: NUMBER, String: STRING, Date: DATE, Null: NULL } = ExcelJS.ValueType;

describe('the XLSX report renderer', () => {
  let workbook: ExcelJS.Workbook;
  beforeAll(async () => {
    workbook = await readBack(SAMPLE_REPORT);
  });

  it('makes an About sheet first, then a sheet per section named by its heading', () => {
    expect(xlsxReportRenderer.format).toBe('xlsx');
    expect(xlsxReportRenderer.contentType).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(workbook.worksheets.map((each) => each.name)).toEqual(['About', 'Assessment change', 'Engagement']);
  });

  it('keeps a table\'s numbers as numbers in their column\'s format, withheld cells as their reason and a missing one empty', () => {
    const assessments = sheet(workbook, 'Assessment change');
    const header = rowOf(assessments, 'Reliable improvement by instrument') + 1;
    expect(assessments.getRow(header).getCell(1).font?.bold).toBe(true);
    expect(cells(assessments, header, 5).map(([value]) => value)).toEqual(['Instrument', 'Users (people)', 'Mean change (points)', 'Reliably improved', 'First assessed']);
    expect(cells(assessments, header + 1, 5)).toEqual([
      ['PHQ-9', STRING, undefined],
      [1234, NUMBER, '#,##0'],
      [-4.56, NUMBER, '#,##0.00'],
      [0.4321, NUMBER, '0.0%'],
      [utc('2027-03-01T00:00:00.000Z'), DATE, 'yyyy-mm-dd'],
    ]);
    expect(cells(assessments, header + 2, 5).slice(1)).toEqual([
      [987, NUMBER, '#,##0'],
      [-3.21, NUMBER, '#,##0.00'],
      [0.3876, NUMBER, '0.0%'],
      [utc('2027-03-02T00:00:00.000Z'), DATE, 'yyyy-mm-dd'],
    ]);
    const withheld = cells(assessments, header + 3, 5);
    expect(withheld.map(([value, type]) => [value, type])).toEqual([
      ['WHO-5', STRING],
      ['suppressed', STRING],
      ['suppressed', STRING],
      ['suppressed', STRING],
      [null, NULL],
    ]);
    const suppressed = assessments.getCell(header + 3, 2);
    expect(suppressed.font?.italic).toBe(true);
    expect(suppressed.fill).toMatchObject({ type: 'pattern', pattern: 'solid' });
    expect(assessments.getCell(header + 1, 2).fill).not.toMatchObject({ pattern: 'solid' });
  });

  it('writes times as the wall clock in the reader\'s zone, across the change to summer time', () => {
    const engagement = sheet(workbook, 'Engagement');
    const header = rowOf(engagement, 'Trend of sessions per day') + 1;
    expect(cells(engagement, header, 4).map(([value]) => value)).toEqual(['Metric', 'Slope (sessions a day)', 'Change on the previous period', 'Latest']);
    // 21:30 UTC on 31 March is 22:30 in London's summer time.
    expect(cells(engagement, header + 1, 4)).toEqual([
      ['sessions', STRING, undefined],
      [4.25, NUMBER, '#,##0.00'],
      [0.125, NUMBER, '0.0%'],
      [utc('2027-03-31T22:30:00.000Z'), DATE, 'yyyy-mm-dd hh:mm'],
    ]);
    expect(cells(engagement, header + 2, 4).map(([value]) => value)).toEqual(['crisis signals', 'not enough data', 'suppressed', utc('2027-03-31T21:00:00.000Z')]);
  });

  it('gives a chart as its points, a date per local day and an empty cell for the withheld one, and says it draws no chart', () => {
    const engagement = sheet(workbook, 'Engagement');
    const header = rowOf(engagement, 'Sessions per day (line chart)') + 1;
    expect(engagement.getCell(header - 2, 1).value).toMatch(/cannot hold the chart itself/);
    expect(engagement.getCell(header - 3, 1).value).toMatch(/^Sessions per day in March 2027, rising/);
    expect(cells(engagement, header, 2).map(([value]) => value)).toEqual(['Date', 'sessions (sessions)']);
    // The last point, 23:00 UTC on 28 March, is midnight of 29 March in London's summer time.
    expect([1, 2, 3, 4, 5].map((offset) => cells(engagement, header + offset, 2))).toEqual([
      [[utc('2027-03-25T00:00:00.000Z'), DATE, 'yyyy-mm-dd'], [812, NUMBER, '#,##0']],
      [[utc('2027-03-26T00:00:00.000Z'), DATE, 'yyyy-mm-dd'], [845, NUMBER, '#,##0']],
      [[utc('2027-03-27T00:00:00.000Z'), DATE, 'yyyy-mm-dd'], [null, NULL, undefined]],
      [[utc('2027-03-28T00:00:00.000Z'), DATE, 'yyyy-mm-dd'], [901, NUMBER, '#,##0']],
      [[utc('2027-03-29T00:00:00.000Z'), DATE, 'yyyy-mm-dd'], [948, NUMBER, '#,##0']],
    ]);
  });

  it('gives an hourly chart a time column, and a series without a point at some time an empty cell there', async () => {
    const hourly = await readBack({
      ...SAMPLE_REPORT,
      sections: [
        {
          id: 'latency',
          heading: 'Latency',
          blocks: [
            {
              kind: 'chart',
              title: 'Answer time',
              description: 'Answer time by hour.',
              type: 'bar',
              unit: 'ms',
              series: [
                { name: 'p50', points: [{ at: '2027-03-28T00:00:00.000Z', value: 12.5 }, { at: '2027-03-28T01:00:00.000Z', value: 11 }] },
                { name: 'p95', points: [{ at: '2027-03-28T01:00:00.000Z', value: 40.25 }] },
              ],
            },
          ],
        },
      ],
    });
    const latency = sheet(hourly, 'Latency');
    const header = rowOf(latency, 'Answer time (bar chart)') + 1;
    expect(cells(latency, header, 3).map(([value]) => value)).toEqual(['Time', 'p50 (ms)', 'p95 (ms)']);
    // London moves to summer time at 01:00 UTC on 28 March 2027: the second hour reads 02:00.
    expect([1, 2].map((offset) => cells(latency, header + offset, 3))).toEqual([
      [[utc('2027-03-28T00:00:00.000Z'), DATE, 'yyyy-mm-dd hh:mm'], [12.5, NUMBER, '#,##0.00'], [null, NULL, undefined]],
      [[utc('2027-03-28T02:00:00.000Z'), DATE, 'yyyy-mm-dd hh:mm'], [11, NUMBER, '#,##0.00'], [40.25, NUMBER, '#,##0.00']],
    ]);
  });

  it('freezes each sheet above its first table\'s first row and fits the columns to what they hold', () => {
    const assessments = sheet(workbook, 'Assessment change');
    const engagement = sheet(workbook, 'Engagement');
    expect(assessments.views[0]).toMatchObject({ state: 'frozen', ySplit: rowOf(assessments, 'Reliable improvement by instrument') + 1 });
    expect(engagement.views[0]).toMatchObject({ state: 'frozen', ySplit: rowOf(engagement, 'Sessions per day (line chart)') + 1 });
    // Each column as wide as its widest header or value, and a margin; section titles and notes run over.
    expect(engagement.getColumn(3).width).toBe('Change on the previous period'.length + 2);
    expect(assessments.getColumn(1).width).toBe('Instrument'.length + 2);
    expect(assessments.getColumn(5).width).toBe('First assessed'.length + 2);
  });

  it('freezes nothing when the first table starts so far down that its frozen rows would fill the window', async () => {
    const paragraphs = Array.from({ length: 12 }, (_, index) => ({ kind: 'paragraph' as const, text: `Note ${index + 1}.` }));
    const table = SAMPLE_REPORT.sections[0]!.blocks[1]!;
    const deep = sheet(await readBack({ ...SAMPLE_REPORT, sections: [{ id: 'notes', heading: 'Notes', blocks: [...paragraphs, table] }] }), 'Notes');
    // exceljs reads a sheet without views as null.
    expect(deep.views ?? []).toEqual([]);
  });

  it('states the period, times, k, the withholding note and the sheets on the About sheet', () => {
    const about = sheet(workbook, 'About');
    expect(about.getCell('A1').value).toBe('Therapeutic outcomes, March 2027');
    const figure = (label: string) => about.getCell(rowOf(about, label), 2);
    expect(figure('Period').value).toBe('2027-03');
    expect(figure('From').value).toEqual(utc('2027-03-01T00:00:00.000Z'));
    expect(figure('Until (not included)').value).toEqual(utc('2027-04-01T00:00:00.000Z'));
    expect(figure('Until (not included)').numFmt).toBe('yyyy-mm-dd hh:mm');
    expect(figure('Time zone').value).toBe('Europe/London');
    expect(figure('Generated at').value).toEqual(utc('2027-04-01T08:00:00.000Z'));
    expect(figure('Data through').value).toEqual(utc('2027-04-01T07:58:00.000Z'));
    expect(figure('k (smallest group shown)').value).toBe(10);
    expect(figure('Withheld figures').value).toContain('fewer than 10 people');
    expect(figure('Dates and times').value).toMatch(/wall-clock times in Europe\/London.*no time zone/);
    const list = rowOf(about, 'Sheets');
    expect([1, 2].map((offset) => [about.getCell(list + offset, 1).value, about.getCell(list + offset, 2).value])).toEqual([
      ['Assessment change', 'Assessment change'],
      ['Engagement', 'Engagement'],
    ]);
  });

  it('sets the workbook\'s title, creator and dates from the document', () => {
    expect(workbook.title).toBe('Therapeutic outcomes, March 2027');
    expect(workbook.creator).toBe('Therapeutic analytics');
    expect(workbook.created).toEqual(utc('2027-04-01T07:00:00.000Z'));
    expect(workbook.modified).toEqual(utc('2027-04-01T07:00:00.000Z'));
  });

  it('says so on the About sheet when there is no data yet', async () => {
    const about = sheet(await readBack({ ...SAMPLE_REPORT, dataThrough: null }), 'About');
    expect(about.getCell(rowOf(about, 'Data through'), 2).value).toBe('no data yet');
  });

  it('names sheets within Excel\'s rules: no forbidden characters, 31 characters at most, unique in any case', async () => {
    const section = (id: string, heading: string): ReportSection => ({ id, heading, blocks: [{ kind: 'paragraph', text: heading }] });
    const names = (await readBack({
      ...SAMPLE_REPORT,
      sections: [
        section('ratio', 'Sessions [per user]: a/b*c?\\d'),
        section('long', 'Completion of the eight-week programme by cohort'),
        section('long-again', 'Completion of the eight-week programme by cohort'),
        section('about', 'about'),
        section('history', 'History'),
        section('quoted', "'Quoted'"),
        section('punctuation', '[]:*?/\\'),
      ],
    })).worksheets.map((each) => each.name);
    expect(names).toEqual([
      'About',
      'Sessions per user a b c d',
      'Completion of the eight-week pr',
      'Completion of the eight-wee (2)',
      'about (2)',
      'History (2)',
      'Quoted',
      'punctuation',
    ]);
  });
});
