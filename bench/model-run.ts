import { randomBytes } from 'node:crypto';
import { postgresDatabase } from '../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../functions/adapters/pg/migrator';
import { behaviourModelSteps } from '../functions/config/behaviour-models';
import { plantedStates } from '../functions/domain/demo/archetype-recovery';
import { plantedPopulation } from '../functions/domain/demo/planted-population';
import { makeRunModels } from '../functions/use-cases/run-models';
import { dropSchema, median, schemaUrl } from './support';

/*
 * The nightly model run over many users, as the model function runs it: the feature rows of a
 * planted population (1,000 users, 14 weeks, seed 16), each repeated under a key of its own to
 * reach the count asked for (the planted events of 100,000 users take minutes to make), written
 * to user_features in a schema of their own on PostgreSQL, then every step (patterns, outcomes)
 * through the real SQL adapters. Reports each run's wall time and Node's CPU time (the fits run on
 * one thread; PostgreSQL's own time reading the rows is in the wall time only).
 * USERS=100000 RUNS=3 npx tsx bench/model-run.ts
 */
const users = Number(process.env.USERS ?? 100_000);
const runs = Number(process.env.RUNS ?? 3);
const end = new Date('2026-12-01T00:00:00Z');

async function main(): Promise<void> {
  const base = [...plantedStates(plantedPopulation({ seed: 16, end, users: 1_000, weeks: 14 }).events()).values()];
  const schema = `model_bench_${randomBytes(4).toString('hex')}`;
  const db = postgresDatabase(await schemaUrl(schema), { max: 2 });
  try {
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
    for (let start = 0; start < users; start += 5_000) {
      const keys = Array.from({ length: Math.min(5_000, users - start) }, (_, i) => String(start + i + 1));
      await db.query('INSERT INTO user_features (subject_hash, state, updated_at) SELECT k, s, now() FROM unnest($1::int8[], $2::jsonb[]) AS u(k, s)', [keys, keys.map((key) => JSON.stringify(base[Number(key) % base.length]))]);
    }
    const clock = { now: () => end };
    const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const artefacts = { put: async () => undefined };
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      // The steps see the population's end as now; the run's own clock times them.
      const runModels = makeRunModels({ steps: behaviourModelSteps({ db, clock, k: 10 }), artefacts, clock: { now: () => new Date() }, logger: silent });
      const [started, cpuBefore] = [performance.now(), process.cpuUsage()];
      const report = await runModels();
      const used = process.cpuUsage(cpuBefore);
      wall.push((performance.now() - started) / 1_000);
      cpu.push((used.user + used.system) / 1e6);
      console.log(JSON.stringify({ run, seconds: wall.at(-1), cpuSeconds: cpu.at(-1), steps: report.steps.map((step) => ({ name: step.name, status: step.status, seconds: step.seconds, ...(step.status === 'fitted' && { quality: step.quality }) })) }));
    }
    console.log(JSON.stringify({ users, runs, medianSeconds: median(wall), medianCpuSeconds: median(cpu) }));
  } finally {
    await db.close();
    await dropSchema(schema);
  }
}

void main();
