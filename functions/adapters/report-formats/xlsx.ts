/*
 * A report document as an Excel workbook (issue 17): an "About" sheet, then a sheet per section.
 * Numbers stay numbers with a number format per column, so a reader can sum and chart them; a
 * withheld figure is the text of its reason in a style of its own, never 0 and never blank.
 */
import ExcelJS from 'exceljs';
import type { Cell, Worksheet } from 'exceljs';
import {
  cellText,
  isWithheld,
  withholdingNote,
  wallClock,
  type CellFormat,
  type ReportCell,
  type ReportChart,
  type ReportColumn,
  type ReportDocument,
  type ReportSection,
} from '../../domain/reports/document';
import type { ReportRenderer } from '../../ports/reports';

const CREATOR = 'Therapeutic analytics';
const ABOUT_SHEET = 'About';

const NUMBER_FORMATS: Record<CellFormat, string | undefined> = {
  text: undefined,
  integer: '#,##0',
  decimal: '#,##0.00',
  percent: '0.0%',
  date: 'yyyy-mm-dd',
  datetime: 'yyyy-mm-dd hh:mm',
};

// Excel refuses these characters in a sheet's name, names longer than 31 characters, a name that
// starts or ends with an apostrophe, and "History" (its own, in any case).
const SHEET_NAME_MAX = 31;
const FORBIDDEN_IN_SHEET_NAME = /[[\]:*?/\\]/g;

// One frozen pane per sheet: it holds the header of the sheet's first table, unless that table
// starts so far down that the frozen rows would fill the window and leave nothing to scroll.
const MAX_FROZEN_ROWS = 12;
const MIN_COLUMN_WIDTH = 8;
const MAX_COLUMN_WIDTH = 60;

const CHART_NOTE =
  "The chart's points, a row per time: this workbook cannot hold the chart itself (the library that writes it, exceljs, draws no charts). An empty cell is a withheld or missing point, not zero.";

function datesNote(timeZone: string): string {
  return `Dates and times are wall-clock times in ${timeZone}. Excel keeps no time zone with a date, so each is stored as the local time it shows, not in UTC.`;
}

/**
 * ISO instants as Dates whose UTC fields are their wall-clock time in the reader's zone: Excel's
 * dates have no zone, and exceljs writes a Date by its UTC time. Read as every other format reads them (`wallClock`).
 */
class WallClock {
  constructor(readonly timeZone: string) {}

  at(iso: string, format: 'date' | 'datetime'): Date {
    const { year, month, day, hour, minute } = wallClock(iso, this.timeZone);
    return new Date(format === 'date' ? Date.UTC(year, month - 1, day) : Date.UTC(year, month - 1, day, hour, minute));
  }
}

/** A section's sheet name: its heading (its id when nothing of the heading is left) made valid for Excel and unique. */
function sheetName(section: ReportSection, taken: Set<string>): string {
  const cleaned = (text: string) => text.replace(FORBIDDEN_IN_SHEET_NAME, ' ').replace(/\s+/g, ' ').trim().replace(/^'+|'+$/g, '').trim();
  const base = cleaned(section.heading) || cleaned(section.id) || 'Section';
  const fit = (suffix: string) => {
    // Cut by code point so a character outside the BMP is never split in half.
    const characters = Array.from(base);
    while (characters.join('').length + suffix.length > SHEET_NAME_MAX) characters.pop();
    return `${characters.join('').replace(/'+$/, '').trimEnd()}${suffix}`;
  };
  let name = fit('');
  for (let copy = 2; taken.has(name.toLowerCase()) || name.toLowerCase() === 'history'; copy += 1) name = fit(` (${copy})`);
  taken.add(name.toLowerCase());
  return name;
}

/** A chart's points as a table: a time column, then a column per series; a gap stays empty. */
function chartAsTable(chart: ReportChart, clock: WallClock): { columns: ReportColumn[]; rows: ReportCell[][] } {
  // By instant, not by text: two spellings of one instant are one row.
  const instants = [...new Set(chart.series.flatMap((series) => series.points.map((point) => Date.parse(point.at))))].sort((a, b) => a - b).map((time) => new Date(time).toISOString());
  // Daily (or coarser) buckets start at local midnight and read best as dates.
  const daily = instants.every((at) => clock.at(at, 'datetime').getTime() % 86_400_000 === 0);
  const values = chart.series.flatMap((series) => series.points.map((point) => point.value)).filter((value) => value !== null);
  const format: CellFormat = values.every(Number.isInteger) ? 'integer' : 'decimal';
  const bySeries = chart.series.map((series) => new Map(series.points.map((point) => [Date.parse(point.at), point.value])));
  return {
    columns: [{ label: daily ? 'Date' : 'Time', format: daily ? 'date' : 'datetime' }, ...chart.series.map((series) => ({ label: series.name, format, unit: chart.unit }))],
    rows: instants.map((at) => [at, ...bySeries.map((points) => points.get(Date.parse(at)) ?? null)]),
  };
}

/** Writes blocks down a sheet row by row, keeping what the sheet needs at the end: column widths and the row to freeze. */
class SheetWriter {
  private nextRow = 1;
  private readonly widths: number[] = [];
  private firstHeaderRow: number | undefined;

  constructor(
    private readonly sheet: Worksheet,
    private readonly clock: WallClock,
  ) {}

  title(text: string): void {
    const cell = this.sheet.getCell(this.nextRow, 1);
    cell.value = text;
    cell.font = { bold: true, size: 12 };
    this.nextRow += 1;
  }

  /** Text that runs across the empty cells to its right; it does not widen the first column. */
  text(text: string, italic = false): void {
    const cell = this.sheet.getCell(this.nextRow, 1);
    cell.value = text;
    if (italic) cell.font = { italic: true };
    this.nextRow += 1;
  }

  table(caption: string, columns: readonly ReportColumn[], rows: readonly (readonly ReportCell[])[]): void {
    this.title(caption);
    const header = this.sheet.getRow(this.nextRow);
    this.firstHeaderRow ??= this.nextRow;
    columns.forEach((column, index) => {
      const label = column.unit ? `${column.label} (${column.unit})` : column.label;
      const cell = header.getCell(index + 1);
      cell.value = label;
      cell.font = { bold: true };
      cell.border = { bottom: { style: 'thin' } };
      if (column.format !== 'text') cell.alignment = { horizontal: 'right' };
      this.widen(index, label);
    });
    this.nextRow += 1;
    for (const row of rows) {
      columns.forEach((column, index) => this.put(this.sheet.getCell(this.nextRow, index + 1), row[index] ?? null, column.format, index));
      this.nextRow += 1;
    }
    this.nextRow += 1;
  }

  chart(chart: ReportChart): void {
    const { columns, rows } = chartAsTable(chart, this.clock);
    this.text(chart.description);
    this.text(CHART_NOTE, true);
    this.table(`${chart.title} (${chart.type} chart)`, columns, rows);
  }

  finish(): void {
    this.widths.forEach((width, index) => {
      this.sheet.getColumn(index + 1).width = Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, width + 2));
    });
    if (this.firstHeaderRow !== undefined && this.firstHeaderRow <= MAX_FROZEN_ROWS) {
      this.sheet.views = [{ state: 'frozen', xSplit: 0, ySplit: this.firstHeaderRow, topLeftCell: `A${this.firstHeaderRow + 1}`, activeCell: `A${this.firstHeaderRow + 1}` }];
    }
  }

  private put(cell: Cell, value: ReportCell, format: CellFormat, column: number): void {
    if (value === null) return;
    const isDate = typeof value === 'string' && (format === 'date' || format === 'datetime');
    // A date shows as its number format, as long as the format's pattern.
    this.widen(column, isDate ? NUMBER_FORMATS[format]! : cellText(value, format, this.clock.timeZone));
    if (isWithheld(value)) {
      cell.value = cellText(value, format, this.clock.timeZone);
      cell.font = { italic: true, color: { argb: 'FF595959' } };
      cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFEDEDED' } };
      cell.alignment = { horizontal: 'right' };
      return;
    }
    cell.value = isDate ? this.clock.at(value, format) : value;
    const numFmt = NUMBER_FORMATS[format];
    if (numFmt !== undefined && typeof cell.value !== 'string') cell.numFmt = numFmt;
  }

  private widen(column: number, text: string): void {
    this.widths[column] = Math.max(this.widths[column] ?? 0, text.length);
  }
}

function writeAbout(sheet: Worksheet, document: ReportDocument, sheets: readonly { name: string; heading: string }[], clock: WallClock): void {
  const { timeZone } = document.period;
  const at = (iso: string) => clock.at(iso, 'datetime');
  const figures: [string, string | number | Date][] = [
    ['Report', document.kind],
    ['Period', document.period.label],
    ['From', at(document.period.from)],
    ['Until (not included)', at(document.period.to)],
    ['Time zone', timeZone],
    ['Generated at', at(document.generatedAt)],
    ['Data through', document.dataThrough === null ? 'no data yet' : at(document.dataThrough)],
    ['k (smallest group shown)', document.k],
    ['Withheld figures', withholdingNote(document.k)],
    ['Dates and times', datesNote(timeZone)],
  ];
  const title = sheet.getCell('A1');
  title.value = document.title;
  title.font = { bold: true, size: 14 };
  figures.forEach(([label, value], index) => {
    const row = sheet.getRow(index + 3);
    row.getCell(1).value = label;
    row.getCell(1).font = { bold: true };
    const cell = row.getCell(2);
    cell.value = value;
    if (value instanceof Date) cell.numFmt = NUMBER_FORMATS.datetime!;
    cell.alignment = { horizontal: 'left', vertical: 'top', wrapText: true };
  });
  const listStart = figures.length + 4;
  sheet.getCell(listStart, 1).value = 'Sheets';
  sheet.getCell(listStart, 1).font = { bold: true };
  sheets.forEach((entry, index) => {
    sheet.getCell(listStart + 1 + index, 1).value = entry.name;
    sheet.getCell(listStart + 1 + index, 2).value = entry.heading;
  });
  const labels = [...figures.map(([label]) => label), ...sheets.map((entry) => entry.name)];
  sheet.getColumn(1).width = Math.max(...labels.map((label) => label.length)) + 2;
  // The notes are long: they wrap in a column as wide as a readable line.
  sheet.getColumn(2).width = 80;
}

async function render(document: ReportDocument): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.title = document.title;
  workbook.creator = CREATOR;
  workbook.lastModifiedBy = CREATOR;
  // Both from the document, so two renders of it carry the same metadata.
  workbook.created = new Date(document.generatedAt);
  workbook.modified = new Date(document.generatedAt);

  const about = workbook.addWorksheet(ABOUT_SHEET);
  const taken = new Set([ABOUT_SHEET.toLowerCase()]);
  const clock = new WallClock(document.period.timeZone);
  const sheets = document.sections.map((section) => {
    const name = sheetName(section, taken);
    const writer = new SheetWriter(workbook.addWorksheet(name), clock);
    writer.title(section.heading);
    for (const block of section.blocks) {
      if (block.kind === 'paragraph') writer.text(block.text);
      else if (block.kind === 'table') writer.table(block.caption, block.columns, block.rows);
      else writer.chart(block);
    }
    writer.finish();
    return { name, heading: section.heading };
  });
  writeAbout(about, document, sheets, clock);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export const xlsxReportRenderer: ReportRenderer = {
  format: 'xlsx',
  contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  render,
};
