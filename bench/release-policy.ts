/**
 * What the release policy adds to a metric answer, in process: building the table of every level
 * a 30-day hourly answer's points sit in, deciding it, and rendering the answer, over the rows
 * `bench/query-latency.ts` loaded (run that first: it keeps its schema). Reads are left out: they
 * are timed through HTTP by query-latency. Prints the median of 50 answers per query, and the
 * policy's own share.
 * `npx tsx bench/release-policy.ts` (DATABASE_URL, EVENTS as for query-latency).
 */
import { postgresDatabase } from '../functions/adapters/pg/database';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { buildMetricAnswer, planMetricQuery, validateMetricQuery } from '../functions/domain/rollups/metric-query';
import { releasePolicy, type ReleasePolicy } from '../functions/domain/privacy/release-policy';
import { median, schemaUrl } from './support';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const DAY_MS = 86_400_000;

async function main(): Promise<void> {
  const db = postgresDatabase(await schemaUrl(`bench_query_${EVENTS}`));
  try {
    const store = new SqlRollupStore(db);
    const loaded = (await db.query<{ loaded_at: Date }>('SELECT loaded_at FROM bench_loaded')).rows[0]?.loaded_at.getTime();
    if (loaded === undefined) throw new Error('no loaded events: run bench/query-latency.ts first');
    const to = new Date(Math.ceil(loaded / 3_600_000) * 3_600_000);
    const from = new Date(to.getTime() - 30 * DAY_MS);
    for (const [metric, groupBy] of [['events', ''], ['events', 'type'], ['session.duration', 'platform']] as const) {
      const query = validateMetricQuery({ metric, from: from.toISOString(), to: to.toISOString(), interval: 'hour', groupBy });
      const plan = planMetricQuery(query);
      const rows = await Promise.all(plan.levels.map((level) => store.readSeries(level.rows)));
      const policy = releasePolicy({ k: 10, approximateMargin: 0.03 });
      const deciding: number[] = [];
      const timed: ReleasePolicy = {
        k: policy.k,
        releasable: (cells, partitions) => {
          const started = performance.now();
          const released = policy.releasable(cells, partitions);
          deciding.push(performance.now() - started);
          return released;
        },
      };
      for (let i = 0; i < 20; i++) buildMetricAnswer(query, plan, rows, timed);
      deciding.length = 0;
      const answering: number[] = [];
      for (let i = 0; i < 50; i++) {
        const started = performance.now();
        buildMetricAnswer(query, plan, rows, timed);
        answering.push(performance.now() - started);
      }
      process.stdout.write(
        `${metric}${groupBy ? ` by ${groupBy}` : ''}: ${rows.flat().length} cells in ${plan.levels.length} levels; answer ${median(answering).toFixed(2)} ms, of which the policy ${median(deciding).toFixed(2)} ms (medians of 50)\n`,
      );
    }
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
