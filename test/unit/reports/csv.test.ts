import { parseString } from '@fast-csv/parse';
import { CSV_HEADER, csvField, csvRenderer } from '../../../functions/adapters/report-formats/csv';
import { cellText, isWithheld, type CellFormat, type ReportCell, type ReportChart, type ReportDocument, type ReportTable } from '../../../functions/domain/reports/document';
import { SAMPLE_REPORT } from '../../support/report-document';

type Line = Record<(typeof CSV_HEADER)[number], string>;

/**
 * Read back with fast-csv's parser (there through exceljs), not one of ours, so a quoting mistake
 * in the writer cannot hide behind the same mistake in the reader.
 */
async function parsed(document: ReportDocument): Promise<{ header: string[]; lines: Line[] }> {
  const text = (await csvRenderer.render(document)).toString('utf8');
  const rows = await new Promise<string[][]>((resolve, reject) => {
    const found: string[][] = [];
    parseString<string[], string[]>(text)
      .on('data', (row: string[]) => found.push(row))
      .on('error', reject)
      .on('end', () => resolve(found));
  });
  const [header = [], ...rest] = rows;
  return { header, lines: rest.map((row) => Object.fromEntries(header.map((name, index) => [name, row[index] ?? ''])) as Line) };
}

const blocksOf = (document: ReportDocument) => document.sections.flatMap((section) => section.blocks.map((block) => ({ section: section.id, block })));
const tablesOf = (document: ReportDocument) => blocksOf(document).flatMap(({ section, block }) => (block.kind === 'table' ? [{ section, table: block }] : []));
const chartsOf = (document: ReportDocument) => blocksOf(document).flatMap(({ section, block }) => (block.kind === 'chart' ? [{ section, chart: block }] : []));
/** A line's value as what it stands for: an empty value is no figure, never a 0. */
function readBack(line: Line): string | number | null {
  if (line.value === '') return null;
  if (line.format === 'datetime') return Date.parse(line.value);
  return ['integer', 'decimal', 'percent'].includes(line.format) ? Number(line.value) : line.value;
}

function expected(cell: ReportCell, format: CellFormat, timeZone: string): [string | number | null, string] {
  if (cell === null) return [null, 'not_applicable'];
  if (isWithheld(cell)) return [null, cell.withheld === 'k_anonymity' ? 'suppressed' : 'not_enough_data'];
  if (typeof cell === 'number') return [cell, 'ok'];
  if (format === 'datetime') return [Date.parse(cell), 'ok'];
  // A date column holds the date in the reader's zone, the one every other format shows.
  return [format === 'date' ? cellText(cell, 'date', timeZone) : cell, 'ok'];
}

const about = (lines: readonly Line[], name: string) => lines.find((line) => line.section === 'report' && line.row === name);

describe('the CSV report renderer', () => {
  it('writes one header and a line per table cell and chart point, ending lines in CRLF', async () => {
    const text = (await csvRenderer.render(SAMPLE_REPORT)).toString('utf8');
    const { header, lines } = await parsed(SAMPLE_REPORT);

    expect(csvRenderer.contentType).toBe('text/csv; charset=utf-8');
    expect(header).toEqual([...CSV_HEADER]);
    const cells = tablesOf(SAMPLE_REPORT).reduce((sum, { table }) => sum + table.rows.length * (table.columns.length - 1), 0);
    const points = chartsOf(SAMPLE_REPORT).reduce((sum, { chart }) => sum + chart.series.reduce((total, series) => total + series.points.length, 0), 0);
    expect(lines.filter((line) => line.section !== 'report')).toHaveLength(cells + points);
    expect(text.split('\r\n')).toHaveLength(1 + lines.length + 1);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('gives back every table cell with its value and status: numbers as they are, withheld ones empty and never 0', async () => {
    const { lines } = await parsed(SAMPLE_REPORT);

    for (const { section, table } of tablesOf(SAMPLE_REPORT)) {
      for (const row of table.rows) {
        table.columns.slice(1).forEach((column, index) => {
          const cell = row[index + 1] ?? null;
          const found = lines.filter((line) => line.section === section && line.block === table.caption && line.row === row[0] && line.column === column.label);
          expect(found).toHaveLength(1);
          const [line] = found as [Line];
          expect(line.format).toBe(column.format);
          expect(line.unit).toBe(column.unit ?? '');
          expect([readBack(line), line.status]).toEqual(expected(cell, column.format, SAMPLE_REPORT.period.timeZone));
        });
      }
    }
    const phq = (column: string) => lines.find((line) => line.row === 'PHQ-9' && line.column === column)?.value;
    expect([phq('Users'), phq('Mean change'), phq('Reliably improved'), phq('First assessed')]).toEqual(['1234', '-4.56', '0.4321', '2027-03-01']);
    expect(lines.filter((line) => line.status !== 'ok').map((line) => line.value)).toEqual(lines.filter((line) => line.status !== 'ok').map(() => ''));
  });

  it('writes instants with the reader\'s offset, so the same instant reads back and the date is the reader\'s', async () => {
    const { lines } = await parsed(SAMPLE_REPORT);
    const chart = chartsOf(SAMPLE_REPORT)[0] as { section: string; chart: ReportChart };
    const chartLines = lines.filter((line) => line.block === chart.chart.title);

    expect(chartLines.map((line) => [Date.parse(line.row), line.value === '' ? null : Number(line.value), line.status])).toEqual(
      chart.chart.series[0]?.points.map((point) => [Date.parse(point.at), point.value, point.value === null ? 'missing' : 'ok']),
    );
    // 23:00 UTC on the 28th, after the clocks went forward, is midnight on the 29th in London.
    expect(chartLines.map((line) => line.row.slice(0, 10))).toEqual(['2027-03-25', '2027-03-26', '2027-03-27', '2027-03-28', '2027-03-29']);
    expect(chartLines[4]?.row).toBe('2027-03-29T00:00:00+01:00');
  });

  it('states the report\'s title, period, zone, times and k in its first lines', async () => {
    const { lines } = await parsed(SAMPLE_REPORT);

    expect(lines.slice(0, 10).every((line) => line.section === 'report')).toBe(true);
    expect(about(lines, 'title')?.value).toBe(SAMPLE_REPORT.title);
    expect(about(lines, 'period_label')?.value).toBe('2027-03');
    expect(about(lines, 'time_zone')?.value).toBe('Europe/London');
    expect(about(lines, 'period_from')?.value).toBe('2027-03-01T00:00:00+00:00');
    expect(about(lines, 'period_to')?.value).toBe('2027-04-01T00:00:00+01:00');
    expect(Date.parse(about(lines, 'generated_at')?.value ?? '')).toBe(Date.parse(SAMPLE_REPORT.generatedAt));
    expect(Date.parse(about(lines, 'data_through')?.value ?? '')).toBe(Date.parse(SAMPLE_REPORT.dataThrough ?? ''));
    expect([about(lines, 'k')?.value, about(lines, 'k')?.format]).toEqual(['10', 'integer']);
    expect(about(lines, 'withholding_note')?.value).toContain('fewer than 10 people');
  });

  it('says when there is no data yet rather than inventing a time', async () => {
    const { lines } = await parsed({ ...SAMPLE_REPORT, dataThrough: null });

    expect([about(lines, 'data_through')?.value, about(lines, 'data_through')?.status]).toEqual(['', 'not_applicable']);
  });

  it('quotes commas, quotes and line breaks, and keeps spreadsheets from running text as a formula', async () => {
    const hostile: ReportTable = {
      kind: 'table',
      caption: '=HYPERLINK("https://example.invalid","click"), "quoted"\nand broken',
      columns: [
        { label: 'Name', format: 'text' },
        { label: '@label', format: 'text' },
        { label: 'Change', format: 'decimal' },
      ],
      rows: [
        ['+cmd', '-2+3', -4.56],
        ['\tTab', '\rReturn', 0],
        ['plain, "text"', '-4.56', 1e-7],
      ],
    };
    const { lines } = await parsed({ ...SAMPLE_REPORT, sections: [{ id: 'hostile', heading: 'Hostile', blocks: [hostile] }] });
    const table = lines.filter((line) => line.section === 'hostile');

    expect(table.map((line) => [line.block, line.row, line.column, line.value])).toEqual([
      [`'${hostile.caption}`, "'+cmd", "'@label", "'-2+3"],
      [`'${hostile.caption}`, "'+cmd", 'Change', '-4.56'],
      [`'${hostile.caption}`, "'\tTab", "'@label", "'\rReturn"],
      [`'${hostile.caption}`, "'\tTab", 'Change', '0'],
      [`'${hostile.caption}`, 'plain, "text"', "'@label", '-4.56'],
      [`'${hostile.caption}`, 'plain, "text"', 'Change', '1e-7'],
    ]);
    expect(Number(table[5]?.value)).toBe(1e-7);
  });

  it('quotes a field only when it has to', () => {
    expect(csvField('PHQ-9')).toBe('PHQ-9');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('-12.5')).toBe('-12.5');
    expect(csvField('')).toBe('');
  });
});
