/**
 * The monthly therapeutic-outcome report over 1,000,000 events (issue 17, point 7: under 10 s on
 * one core for its PDF and XLSX): the demo's synthetic traffic (6,000 users, 29 days) ending at
 * the close of February 2027 in New York, folded into the rollups and features and rolled up,
 * its archetypes and outcome model fitted and two cohorts stored, as the nightly run and a lead
 * would have left them; then the report for February in New York gathered
 * (makeOutcomesReport) and rendered to PDF and XLSX, RUNS times after one warm-up. New York's
 * local days cut UTC days, so the report sums stored hours, the heavier of the two paths.
 * Prints each run's wall-clock and CPU time per step and their medians. CPU is the Node process's
 * (with PGlite, the database runs in its worker thread and is counted); on PostgreSQL the one
 * backend's CPU is added from /proc when the server is local, as the report's queries run on it.
 * The loaded data is kept (a schema on PostgreSQL, a folder for PGlite) for later runs;
 * BENCH_RELOAD=1 rebuilds it.
 * `taskset -c 0 npx tsx bench/report-monthly.ts` (TARGET=postgres|pglite, DATABASE_URL, EVENTS, RUNS, BENCH_DATA_DIR, NODE_ENV)
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresDatabase, type SqlDatabase } from '../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../functions/adapters/pg/migrator';
import { embeddedDatabase } from '../functions/adapters/pg/pglite-database';
import { SqlPatternStore } from '../functions/adapters/pg/sql-behavior-patterns';
import { SqlCohortPopulation, SqlCohortStore } from '../functions/adapters/pg/sql-cohorts';
import { SqlOutcomePredictionStore } from '../functions/adapters/pg/sql-outcome-predictions';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { SqlFeatureRows } from '../functions/adapters/pg/sql-user-features';
import { pdfRenderer } from '../functions/adapters/report-formats/pdf';
import { xlsxReportRenderer } from '../functions/adapters/report-formats/xlsx';
import { behaviourModelSteps } from '../functions/config/behaviour-models';
import { makeCohorts } from '../functions/use-cases/cohorts';
import { makeOutcomesReport } from '../functions/use-cases/report-sources/outcomes';
import { dropSchema, loadSyntheticTraffic, median, processCpuMicros, schemaUrl } from './support';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 3);
const TARGET = process.env.TARGET ?? 'postgres';
const SCHEMA = `bench_report_monthly_${EVENTS}`;
const DATA_DIR = process.env.BENCH_DATA_DIR ?? join(tmpdir(), `bench-report-monthly-${EVENTS}`);
const K = 10;
// The close of February in New York (EST): the traffic's 29 days end here.
const NOW = new Date('2027-03-01T05:00:00.000Z');
const PERIOD = { from: '2027-02-01T05:00:00.000Z', to: '2027-03-01T05:00:00.000Z', timeZone: 'America/New_York', label: '2027-02' };
const clock = { now: () => NOW };

async function load(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  await db.query('CREATE TABLE IF NOT EXISTS bench_loaded (events int NOT NULL)');
  if ((await db.query('SELECT events FROM bench_loaded')).rows[0]) return;
  const started = performance.now();
  const store = new SqlRollupStore(db);
  await loadSyntheticTraffic(store, EVENTS, NOW);
  while (!(await store.rollUp(NOW.getTime())).done);
  for (const step of behaviourModelSteps({ db, clock, k: K })) {
    const artefact = await step.run(() => undefined);
    process.stdout.write(`${step.name}: ${artefact ? `fitted ${JSON.stringify(artefact.quality)}` : 'too little data to fit'}\n`);
  }
  const cohorts = cohortsOf(db);
  for (const platform of ['ios', 'android'] as const) await cohorts.create({ name: `${platform} users`, definition: { attribute: { platform } } }, 'bench');
  await db.query('INSERT INTO bench_loaded VALUES ($1)', [EVENTS]);
  await db.query('ANALYZE');
  process.stdout.write(`loaded and fitted in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

const cohortsOf = (db: SqlDatabase) => makeCohorts({ store: new SqlCohortStore(db), population: new SqlCohortPopulation(db), patterns: new SqlPatternStore(db), clock, k: K, newId: randomUUID });

/** CPU of the PostgreSQL backend so far, ms: 0 for PGlite (counted in this process) or a server elsewhere. */
function backendCpuMs(pid: number | undefined): number {
  const micros = pid === undefined ? NaN : processCpuMicros(pid);
  return Number.isNaN(micros) ? 0 : micros / 1_000;
}

async function open(): Promise<SqlDatabase> {
  if (TARGET === 'pglite') {
    if (process.env.BENCH_RELOAD === '1') rmSync(DATA_DIR, { recursive: true, force: true });
    return embeddedDatabase(DATA_DIR);
  }
  if (process.env.BENCH_RELOAD === '1') await dropSchema(SCHEMA);
  // One connection: the report's queries queue on one backend, as they would on one core.
  return postgresDatabase(await schemaUrl(SCHEMA), { max: 1 });
}

interface Step {
  wall: number[];
  cpu: number[];
}

async function main(): Promise<void> {
  const db = await open();
  try {
    await load(db);
    const backend = TARGET === 'pglite' ? undefined : (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const source = makeOutcomesReport({
      rollups: new SqlRollupStore(db),
      features: new SqlFeatureRows(db),
      cohorts: cohortsOf(db),
      patterns: new SqlPatternStore(db),
      predictions: new SqlOutcomePredictionStore(db),
      k: K,
      clock,
    });
    const steps = new Map<string, Step>(['gather', 'pdf', 'xlsx', 'total'].map((name) => [name, { wall: [], cpu: [] }]));
    const record = (name: string, wall: number, cpu: number) => {
      steps.get(name)!.wall.push(wall);
      steps.get(name)!.cpu.push(cpu);
    };
    for (let run = -1; run < RUNS; run += 1) {
      const marks: { wall: number; cpu: number }[] = [];
      const mark = () => {
        const used = process.cpuUsage();
        marks.push({ wall: performance.now(), cpu: (used.user + used.system) / 1_000 + backendCpuMs(backend) });
      };
      mark();
      const document = await source({ period: PERIOD, parameters: { baseline: { from: '2027-02-01T05:00:00.000Z', to: '2027-02-08T05:00:00.000Z' } }, release: null }, () => undefined);
      mark();
      const pdf = await pdfRenderer.render(document);
      mark();
      const xlsx = await xlsxReportRenderer.render(document);
      mark();
      const line = ['gather', 'pdf', 'xlsx'].map((name, i) => {
        const wall = marks[i + 1]!.wall - marks[i]!.wall;
        const cpu = marks[i + 1]!.cpu - marks[i]!.cpu;
        if (run >= 0) record(name, wall, cpu);
        return `${name} ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU`;
      });
      const total = { wall: marks[3]!.wall - marks[0]!.wall, cpu: marks[3]!.cpu - marks[0]!.cpu };
      if (run >= 0) record('total', total.wall, total.cpu);
      console.log(`${run < 0 ? 'warm-up' : `run ${run + 1}`}: ${line.join('; ')}; total ${total.wall.toFixed(0)} ms wall, ${total.cpu.toFixed(0)} ms CPU (PDF ${(pdf.length / 1024).toFixed(0)} KiB, XLSX ${(xlsx.length / 1024).toFixed(0)} KiB, data through ${document.dataThrough})`);
    }
    const cpuNote = TARGET === 'pglite' ? 'Node and PGlite' : backend !== undefined && backendCpuMs(backend) > 0 ? 'Node plus its PostgreSQL backend' : 'Node only (the PostgreSQL backend is not local)';
    for (const [name, { wall, cpu }] of steps) console.log(`${name}: median ${median(wall).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU`);
    console.log(`${TARGET}, ${EVENTS} events, NODE_ENV=${process.env.NODE_ENV ?? ''}, CPU of ${cpuNote}, median of ${RUNS}: ${(median(steps.get('total')!.wall) / 1000).toFixed(2)} s wall, ${(median(steps.get('total')!.cpu) / 1000).toFixed(2)} s CPU (target 10 s)`);
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
