import { isWithheld, withholdingNote, type CellFormat, type ReportCell, type ReportChart, type ReportDocument, type ReportTable } from '../../domain/reports/document';
import type { ReportRenderer } from '../../ports/reports';
import { isoInstantInZone } from '../../domain/rollups/calendar';

/*
 * The report as one tidy CSV table that R's read.csv, pandas' read_csv or a spreadsheet reads as
 * it is: a line per figure, never a layout. The columns:
 *
 *   section  the section's id; `report` for the lines that describe the report itself
 *   block    the table's caption or the chart's title (`about` for the report's own lines)
 *   row      the row's name (its first cell), a chart point's instant, or the report field's name
 *   column   the column's label, or the chart series' name
 *   unit     the column's or chart's unit, when it has one
 *   format   text | integer | decimal | percent (a share, 0..1) | date | datetime
 *   value    a number as it is (`.` for decimals, no grouping, a percent as its share), text, a
 *            date as YYYY-MM-DD and an instant as ISO 8601 with the reader's offset; empty
 *            unless status is ok
 *   status   ok | suppressed (fewer than k people) | not_enough_data | not_applicable (a cell
 *            that does not apply) | missing (a chart point withheld or missing)
 *
 * The first lines (section `report`) state title, kind, period, time zone, generation time, data
 * through, k and what a withheld figure means, so the file stands alone. Paragraphs are prose
 * and are left out. Lines end in CRLF and fields are quoted as RFC 4180 says.
 */

export const CSV_HEADER = ['section', 'block', 'row', 'column', 'unit', 'format', 'value', 'status'] as const;

export type CsvStatus = 'ok' | 'suppressed' | 'not_enough_data' | 'not_applicable' | 'missing';

type Line = Record<(typeof CSV_HEADER)[number], string>;

const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A field as RFC 4180 writes it, made safe to open in a spreadsheet: text that a spreadsheet would
 * run as a formula (starting = + - @, tab or CR) gets a leading apostrophe, which spreadsheets
 * hide and read as "this is text"; a plain number such as -4.56 is left as it is.
 */
export function csvField(text: string): string {
  const safe = FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function valueOf(cell: ReportCell, format: CellFormat, timeZone: string): { value: string; status: CsvStatus } {
  if (cell === null) return { value: '', status: 'not_applicable' };
  if (isWithheld(cell)) return { value: '', status: cell.withheld === 'k_anonymity' ? 'suppressed' : 'not_enough_data' };
  if (typeof cell === 'number') return { value: String(cell), status: 'ok' };
  if (format === 'date') return { value: isoInstantInZone(Date.parse(cell), timeZone).slice(0, 10), status: 'ok' };
  if (format === 'datetime') return { value: isoInstantInZone(Date.parse(cell), timeZone), status: 'ok' };
  return { value: cell, status: 'ok' };
}

const rowName = (cell: ReportCell, format: CellFormat, timeZone: string) => valueOf(cell, format, timeZone).value;

function aboutLines(document: ReportDocument): Line[] {
  const zone = document.period.timeZone;
  const about: [string, CellFormat, string | number | null][] = [
    ['title', 'text', document.title],
    ['kind', 'text', document.kind],
    ['period_label', 'text', document.period.label],
    ['period_from', 'datetime', document.period.from],
    ['period_to', 'datetime', document.period.to],
    ['time_zone', 'text', zone],
    ['generated_at', 'datetime', document.generatedAt],
    ['data_through', 'datetime', document.dataThrough],
    ['k', 'integer', document.k],
    ['withholding_note', 'text', withholdingNote(document.k)],
  ];
  return about.map(([name, format, cell]) => ({ section: 'report', block: 'about', row: name, column: '', unit: '', format, ...valueOf(cell, format, zone) }));
}

function tableLines(section: string, table: ReportTable, timeZone: string): Line[] {
  const [nameColumn, ...figureColumns] = table.columns;
  if (nameColumn === undefined) return [];
  return table.rows.flatMap((row) =>
    figureColumns.map((column, index) => ({
      section,
      block: table.caption,
      row: rowName(row[0] ?? null, nameColumn.format, timeZone),
      column: column.label,
      unit: column.unit ?? '',
      format: column.format,
      ...valueOf(row[index + 1] ?? null, column.format, timeZone),
    })),
  );
}

function chartLines(section: string, chart: ReportChart, timeZone: string): Line[] {
  return chart.series.flatMap((series) =>
    series.points.map((point) => ({
      section,
      block: chart.title,
      row: isoInstantInZone(Date.parse(point.at), timeZone),
      column: series.name,
      unit: chart.unit,
      format: 'decimal',
      ...(point.value === null ? { value: '', status: 'missing' } : { value: String(point.value), status: 'ok' }),
    })),
  );
}

export function reportCsv(document: ReportDocument): string {
  const zone = document.period.timeZone;
  const lines = [
    ...aboutLines(document),
    ...document.sections.flatMap((section) =>
      section.blocks.flatMap((block) => {
        if (block.kind === 'table') return tableLines(section.id, block, zone);
        if (block.kind === 'chart') return chartLines(section.id, block, zone);
        return [];
      }),
    ),
  ];
  return [CSV_HEADER.join(','), ...lines.map((line) => CSV_HEADER.map((name) => csvField(line[name])).join(','))].map((line) => `${line}\r\n`).join('');
}

export const csvRenderer: ReportRenderer = {
  format: 'csv',
  contentType: 'text/csv; charset=utf-8',
  render: async (document) => Buffer.from(reportCsv(document), 'utf8'),
};
