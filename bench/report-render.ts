/**
 * Every report format on a report the size of a busy month's (issue 17's target: a monthly
 * report's PDF and XLSX both in under 10 s on one core): 30 tables of 30 rows and 6 charts of 365
 * daily points (three line, three bar, a withheld point in every 40). Prints each run's wall-clock
 * and CPU time per format (the process's CPU, so other work on a shared machine does not count),
 * their medians over RUNS (default 5) after one warm-up, PDF and XLSX together, and each file's
 * size. React runs its development build unless NODE_ENV=production, as a bundle that does not
 * define it would.
 * `taskset -c 0 npx tsx bench/report-render.ts` (RUNS, NODE_ENV)
 */
import { csvRenderer } from '../functions/adapters/report-formats/csv';
import { htmlRenderer } from '../functions/adapters/report-formats/html';
import { pdfRenderer } from '../functions/adapters/report-formats/pdf';
import { xlsxReportRenderer } from '../functions/adapters/report-formats/xlsx';
import type { ReportDocument, ReportSection } from '../functions/domain/reports/document';
import { median } from './support';

const RUNS = Number(process.env.RUNS ?? 5);
const DAY = 24 * 3600 * 1000;
const START = Date.parse('2027-01-01T00:00:00.000Z');
const RENDERERS = [pdfRenderer, xlsxReportRenderer, csvRenderer, htmlRenderer];

function tableSection(index: number): ReportSection {
  return {
    id: `table-${index}`,
    heading: `Breakdown ${index + 1}`,
    blocks: [
      { kind: 'paragraph', text: `Figures by cohort for breakdown ${index + 1}; groups under k are suppressed.` },
      {
        kind: 'table',
        caption: `Breakdown ${index + 1} by cohort`,
        columns: [
          { label: 'Cohort', format: 'text' },
          { label: 'Users', format: 'integer', unit: 'people' },
          { label: 'Sessions', format: 'integer', unit: 'sessions' },
          { label: 'Mean change', format: 'decimal', unit: 'points' },
          { label: 'Improved', format: 'percent' },
          { label: 'Last seen', format: 'datetime' },
        ],
        rows: Array.from({ length: 30 }, (_, row) => [
          `cohort ${row + 1}`,
          row % 11 === 5 ? { withheld: 'k_anonymity' } : 100 + row * 7 + index,
          1000 + row * 31 + index,
          row % 13 === 7 ? { withheld: 'not_enough_data' } : -((row % 9) + 1 + index / 10),
          ((row * 37 + index) % 100) / 100,
          new Date(START + (row + index) * 3600 * 1000).toISOString(),
        ]),
      },
    ],
  };
}

function chartSection(index: number): ReportSection {
  return {
    id: `chart-${index}`,
    heading: `Daily series ${index + 1}`,
    blocks: [
      {
        kind: 'chart',
        title: `Series ${index + 1} per day`,
        description: `Series ${index + 1} per day over a year, with a withheld day in every 40.`,
        type: index % 2 === 0 ? 'line' : 'bar',
        unit: 'events',
        series: [
          {
            name: `series ${index + 1}`,
            points: Array.from({ length: 365 }, (_, day) => ({
              at: new Date(START + day * DAY).toISOString(),
              value: day % 40 === 39 ? null : Math.round(500 + 200 * Math.sin(day / 20) + ((day * 7919) % 50)),
            })),
          },
        ],
      },
    ],
  };
}

const LARGE_REPORT: ReportDocument = {
  kind: 'operations',
  title: 'Operations, a year by day',
  period: { from: '2027-01-01T00:00:00.000Z', to: '2028-01-01T00:00:00.000Z', timeZone: 'Europe/London', label: '2027' },
  generatedAt: '2028-01-01T06:00:00.000Z',
  dataThrough: '2028-01-01T05:58:00.000Z',
  k: 10,
  sections: [...Array.from({ length: 30 }, (_, i) => tableSection(i)), ...Array.from({ length: 6 }, (_, i) => chartSection(i))],
};

async function main(): Promise<void> {
  const times = new Map(RENDERERS.map((renderer) => [renderer.format, { wall: [] as number[], cpu: [] as number[], bytes: 0 }]));
  for (let run = -1; run < RUNS; run += 1) {
    for (const renderer of RENDERERS) {
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      const file = await renderer.render(LARGE_REPORT);
      const cpuUsed = process.cpuUsage(cpuBefore);
      if (run < 0) continue;
      const format = times.get(renderer.format)!;
      format.wall.push(performance.now() - started);
      format.cpu.push((cpuUsed.user + cpuUsed.system) / 1000);
      format.bytes = file.length;
    }
  }
  for (const [format, { wall, cpu, bytes }] of times) console.log(`${format}: median ${median(wall).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU; ${(bytes / 1024).toFixed(0)} KiB`);
  const both = (key: 'wall' | 'cpu') => median(times.get('pdf')![key].map((value, run) => value + times.get('xlsx')![key][run]!));
  console.log(`PDF and XLSX together (NODE_ENV=${process.env.NODE_ENV ?? ''}), median of ${RUNS}: ${both('wall').toFixed(0)} ms wall, ${both('cpu').toFixed(0)} ms CPU`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
