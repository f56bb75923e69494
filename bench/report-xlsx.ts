/**
 * What the XLSX renderer costs on a large monthly report: 30 tables of 30 rows (six columns of
 * every format, one cell in twelve withheld) and 6 daily charts of 365 points, in 6 sections.
 * Target (issue 17): a monthly report's PDF and XLSX each under 10 s on one core.
 * `npx tsx bench/report-xlsx.ts` (RUNS, default 5); prints each run, the median and the file's size.
 */
import { xlsxReportRenderer } from '../functions/adapters/report-formats/xlsx';
import type { ReportCell, ReportDocument, ReportSection } from '../functions/domain/reports/document';
import { median } from './support';

const RUNS = Number(process.env.RUNS ?? 5);
const SECTIONS = 6;
const TABLES_PER_SECTION = 5;
const ROWS = 30;
const DAYS = 365;
const DAY_MS = 86_400_000;
const START = Date.parse('2026-04-01T00:00:00.000Z');

function cell(table: number, row: number, column: number, value: number): ReportCell {
  if ((table + row + column) % 12 === 0) return { withheld: (row % 2 === 0 ? 'k_anonymity' : 'not_enough_data') };
  return value;
}

function section(index: number): ReportSection {
  const tables = Array.from({ length: TABLES_PER_SECTION }, (_, offset) => {
    const table = index * TABLES_PER_SECTION + offset;
    return {
      kind: 'table' as const,
      caption: `Table ${table + 1}: figures by cohort`,
      columns: [
        { label: 'Cohort', format: 'text' as const },
        { label: 'Users', format: 'integer' as const, unit: 'people' },
        { label: 'Mean change', format: 'decimal' as const, unit: 'points' },
        { label: 'Improved', format: 'percent' as const },
        { label: 'First seen', format: 'date' as const },
        { label: 'Latest', format: 'datetime' as const },
      ],
      rows: Array.from({ length: ROWS }, (_, row) => [
        `cohort ${row + 1}`,
        cell(table, row, 1, 100 + row * 37),
        cell(table, row, 2, -row / 7),
        cell(table, row, 3, (row % 10) / 10),
        new Date(START + row * DAY_MS).toISOString(),
        new Date(START + row * DAY_MS + 9.5 * 3_600_000).toISOString(),
      ]),
    };
  });
  return {
    id: `section-${index + 1}`,
    heading: `Section ${index + 1}`,
    blocks: [
      { kind: 'paragraph', text: `What section ${index + 1} holds, in a sentence.` },
      {
        kind: 'chart',
        title: `Daily figure ${index + 1}`,
        description: 'A year of a daily figure.',
        type: 'line',
        unit: 'sessions',
        series: [{ name: 'sessions', points: Array.from({ length: DAYS }, (_, day) => ({ at: new Date(START + day * DAY_MS).toISOString(), value: day % 50 === 0 ? null : 800 + (day % 90) })) }],
      },
      ...tables,
    ],
  };
}

const document: ReportDocument = {
  kind: 'operations',
  title: 'A large monthly report',
  period: { from: '2027-03-01T00:00:00.000Z', to: '2027-03-31T23:00:00.000Z', timeZone: 'Europe/London', label: '2027-03' },
  generatedAt: '2027-04-01T07:00:00.000Z',
  dataThrough: '2027-04-01T06:58:00.000Z',
  k: 10,
  sections: Array.from({ length: SECTIONS }, (_, index) => section(index)),
};

async function main(): Promise<void> {
  const timings: number[] = [];
  let bytes = 0;
  for (let run = 1; run <= RUNS; run += 1) {
    const started = performance.now();
    bytes = (await xlsxReportRenderer.render(document)).length;
    timings.push(performance.now() - started);
    process.stdout.write(`run ${run}: ${timings.at(-1)!.toFixed(0)} ms\n`);
  }
  process.stdout.write(
    `median over ${RUNS} runs: ${median(timings).toFixed(0)} ms for ${SECTIONS * TABLES_PER_SECTION} tables of ${ROWS} rows and ${SECTIONS} charts of ${DAYS} points (${(bytes / 1024).toFixed(0)} KiB)\n`,
  );
}

void main();
