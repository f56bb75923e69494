/**
 * The operational report over a month of events (issue 17): EVENTS events (default 100,000) of
 * every type from 250 users across February and March 2027 in an in-memory PGlite, then March's
 * report in Europe/London gathered and rendered to PDF and XLSX, RUNS times (default 3). Prints
 * each run's wall-clock and CPU time (the process's) for the gathering and each format, and their
 * medians. The roll-up has folded the minutes, as it has in production. Ingest minutes are a latency for every minute of the month, as CloudWatch would give.
 * `taskset -c 0 npx tsx bench/operations-report.ts` (EVENTS, RUNS)
 */
import { randomUUID } from 'node:crypto';
import { EMBEDDED_MIGRATIONS_DIR, PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../functions/adapters/pg/migrator';
import { embeddedDatabase } from '../functions/adapters/pg/pglite-database';
import { SqlAlertStore } from '../functions/adapters/pg/sql-alert-store';
import { SqlAnomalyStore } from '../functions/adapters/pg/sql-anomaly-stores';
import { SqlDeadLetterQueue } from '../functions/adapters/pg/sql-dead-letter-queue';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { pdfRenderer } from '../functions/adapters/report-formats/pdf';
import { xlsxReportRenderer } from '../functions/adapters/report-formats/xlsx';
import { EVENT_TYPES, type StoredEvent } from '../functions/domain/events/schema';
import { makeOperationsReport } from '../functions/use-cases/report-sources/operations';
import { SAMPLE_ATTRIBUTES } from '../test/support/events';
import { median } from './support';

const EVENTS = Number(process.env.EVENTS ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 3);
const BATCH = 5_000;
const START = Date.UTC(2027, 1, 1);
const SPAN = Date.UTC(2027, 3, 1) - START;
const NOW = new Date(Date.UTC(2027, 3, 2));
const PERIOD = { from: '2027-03-01T00:00:00.000Z', to: '2027-03-31T23:00:00.000Z', timeZone: 'Europe/London', label: '2027-03' };

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const db = await embeddedDatabase(undefined);
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  const rollups = new SqlRollupStore(db);
  for (let first = 0; first < EVENTS; first += BATCH) {
    await rollups.applyEvents(
      Array.from({ length: Math.min(BATCH, EVENTS - first) }, (_, i): StoredEvent => {
        const n = first + i;
        const at = new Date(START + Math.floor((n / EVENTS) * SPAN)).toISOString();
        const type = EVENT_TYPES[n % EVENT_TYPES.length]!;
        const subject = ((n % 250) + 1).toString(16).padStart(2, '0').repeat(32);
        return { v: 1, eventId: randomUUID(), type, occurredAt: at, receivedAt: at, subject, session: 'ab'.repeat(32), attributes: SAMPLE_ATTRIBUTES[type], context: { platform: 'ios' } } as StoredEvent;
      }),
    );
  }
  // As the roll-up function leaves them in production: minutes folded into hours and days.
  while (!(await rollups.rollUp(NOW.getTime())).done);
  const source = makeOperationsReport({
    rollups,
    operational: { readMinutes: async (from, to) => ({ ingestErrors: [], ingestLatencyP95Ms: Array.from({ length: (to - from) / 60_000 }, (_, i) => ({ t: from + i * 60_000, value: 40 + (i % 17) })) }) },
    alerts: new SqlAlertStore(db),
    anomalies: new SqlAnomalyStore(db),
    deadLetters: new SqlDeadLetterQueue(db),
    clock: { now: () => NOW },
    k: 10,
  });
  const runs: { gather: number; pdf: number; xlsx: number }[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const gathered = await timed(() => source({ period: PERIOD, parameters: {}, release: null }, () => undefined));
    const pdf = await timed(() => pdfRenderer.render(gathered.result));
    const xlsx = await timed(() => xlsxReportRenderer.render(gathered.result));
    runs.push({ gather: gathered.wallMs, pdf: pdf.wallMs, xlsx: xlsx.wallMs });
    console.log(
      `run ${run + 1}: gathered in ${gathered.wallMs.toFixed(0)} ms (${gathered.cpuMs.toFixed(0)} ms CPU); PDF ${pdf.result.length} bytes in ${pdf.wallMs.toFixed(0)} ms (${pdf.cpuMs.toFixed(0)} CPU); XLSX ${xlsx.result.length} bytes in ${xlsx.wallMs.toFixed(0)} ms (${xlsx.cpuMs.toFixed(0)} CPU)`,
    );
  }
  console.log(`median of ${RUNS}, ${EVENTS} events: gathered ${median(runs.map((r) => r.gather)).toFixed(0)} ms, PDF ${median(runs.map((r) => r.pdf)).toFixed(0)} ms, XLSX ${median(runs.map((r) => r.xlsx)).toFixed(0)} ms (wall)`);
  await db.close();
}

void main();
