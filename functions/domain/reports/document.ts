/*
 * A report as every format renders it (issue 17): the report definitions (outcomes, operations,
 * research) compute one of these from the stores, and each renderer (PDF, XLSX, CSV, HTML) draws
 * it without knowing which report it is. Numbers stay numbers here, with the format to show them
 * in; a withheld figure is a cell of its own kind, so no renderer can show it as zero.
 */

export const REPORT_KINDS = ['outcomes', 'operations', 'research'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const REPORT_FORMATS = ['pdf', 'xlsx', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** How a column's numbers are shown: `percent` holds a share (0..1), `date` and `datetime` ISO text. */
export type CellFormat = 'text' | 'integer' | 'decimal' | 'percent' | 'date' | 'datetime';

/** Why a figure is not shown. */
export type Withheld =
  /** A group of fewer than k people, or one that would give such a group away (PRIVACY.md). */
  | { readonly withheld: 'k_anonymity' }
  /** Too few values for the figure to mean anything (a trend of three points). */
  | { readonly withheld: 'not_enough_data' };

/** A table cell: a number or text in its column's format, null where the figure does not apply, or withheld. */
export type ReportCell = string | number | null | Withheld;

export interface ReportColumn {
  readonly label: string;
  readonly format: CellFormat;
  /** The unit of the column's numbers, named in its header ("ms", "points", "events"). */
  readonly unit?: string;
}

export interface ReportTable {
  readonly kind: 'table';
  /** Says what the table holds: the caption in HTML and PDF, the title above it in XLSX and CSV. */
  readonly caption: string;
  readonly columns: readonly ReportColumn[];
  /** Each row has a cell per column; the first column names the row. */
  readonly rows: readonly (readonly ReportCell[])[];
}

export interface ChartPoint {
  /** An ISO instant: the start of the point's bucket. */
  readonly at: string;
  /** Null where the point is withheld or missing: a gap in the line, never a zero. */
  readonly value: number | null;
}

export interface ReportChart {
  readonly kind: 'chart';
  readonly title: string;
  /** The chart in words, for readers who cannot see it (alt text in HTML, and under the chart in PDF). */
  readonly description: string;
  readonly type: 'line' | 'bar';
  readonly unit: string;
  readonly series: readonly { readonly name: string; readonly points: readonly ChartPoint[] }[];
}

export interface ReportParagraph {
  readonly kind: 'paragraph';
  readonly text: string;
}

export type ReportBlock = ReportParagraph | ReportTable | ReportChart;

export interface ReportSection {
  /** Stable and short (letters, digits, dashes): an anchor in HTML, a sheet's name in XLSX. */
  readonly id: string;
  readonly heading: string;
  readonly blocks: readonly ReportBlock[];
}

export interface ReportPeriod {
  /** ISO instants bounding the period, [from, to). */
  readonly from: string;
  readonly to: string;
  /** The reader's IANA time zone, in which the period's days and the report's times are shown. */
  readonly timeZone: string;
  /** A short name of the period ("2027-W12", "2027-03"). */
  readonly label: string;
}

export interface ReportDocument {
  readonly kind: ReportKind;
  readonly title: string;
  readonly period: ReportPeriod;
  readonly generatedAt: string;
  /** The newest data the report covers (the roll-up's watermark when it was made); null if none. */
  readonly dataThrough: string | null;
  /** The k the figures were released under, stated in the report. */
  readonly k: number;
  readonly sections: readonly ReportSection[];
}

export const isWithheld = (cell: ReportCell): cell is Withheld => typeof cell === 'object' && cell !== null;

const WITHHELD_TEXT: Record<Withheld['withheld'], string> = {
  k_anonymity: 'suppressed',
  not_enough_data: 'not enough data',
};

export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

// One formatter per zone: building one costs about 0.15 ms, and a report reads thousands of times.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The date and time an instant shows on a clock in `timeZone`. */
export function wallClock(iso: string, timeZone: string): WallClock {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(new Date(iso)).map((part) => [part.type, Number(part.value)]));
  return { year: parts['year']!, month: parts['month']!, day: parts['day']!, hour: parts['hour']!, minute: parts['minute']! };
}

const twoDigits = (value: number) => String(value).padStart(2, '0');

/** A date or instant in the reader's zone: `2027-03-28` or `2027-03-28 09:30`. */
function inZone(iso: string, timeZone: string, withTime: boolean): string {
  const { year, month, day, hour, minute } = wallClock(iso, timeZone);
  const date = `${year}-${twoDigits(month)}-${twoDigits(day)}`;
  return withTime ? `${date} ${twoDigits(hour)}:${twoDigits(minute)}` : date;
}

/**
 * A cell as text, the same in every format that shows text (PDF, HTML; CSV and XLSX keep the
 * numbers and show this only for withheld cells): withheld cells by their reason, never as 0.
 */
export function cellText(cell: ReportCell, format: CellFormat, timeZone: string): string {
  if (cell === null) return '–';
  if (isWithheld(cell)) return WITHHELD_TEXT[cell.withheld];
  if (typeof cell === 'string') return format === 'date' || format === 'datetime' ? inZone(cell, timeZone, format === 'datetime') : cell;
  switch (format) {
    case 'integer':
      return Math.round(cell).toLocaleString('en-GB');
    case 'percent':
      return `${(cell * 100).toLocaleString('en-GB', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} %`;
    case 'decimal':
      return cell.toLocaleString('en-GB', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
    default:
      return String(cell);
  }
}

/** What withheld cells mean, for the note every format prints once. */
export function withholdingNote(k: number): string {
  return `"suppressed" marks a figure about fewer than ${k} people, or one that would give such a group away; it is not zero. "not enough data" marks a figure with too few values to mean anything.`;
}
