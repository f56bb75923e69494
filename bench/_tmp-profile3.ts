import { postgresDatabase } from '../functions/adapters/pg/database';
import { SqlRollupStore } from '../functions/adapters/pg/sql-rollup-store';
import { buildMetricAnswer, planMetricQuery, validateMetricQuery } from '../functions/domain/rollups/metric-query';
import { releasePolicy } from '../functions/domain/privacy/release-policy';
import { schemaUrl } from './support';

async function main() {
  const db = postgresDatabase(await schemaUrl('bench_query_1000000'));
  const store = new SqlRollupStore(db);
  const loaded = (await db.query<{ loaded_at: Date }>('SELECT loaded_at FROM bench_loaded')).rows[0]!.loaded_at.getTime();
  const to = new Date(Math.ceil(loaded / 3_600_000) * 3_600_000);
  const from = new Date(to.getTime() - 30 * 86_400_000);
  for (const [metric, groupBy] of [['events', ''], ['events', 'type'], ['session.duration', 'platform']]) {
    const query = validateMetricQuery({ metric, from: from.toISOString(), to: to.toISOString(), interval: 'hour', groupBy });
    const plan = planMetricQuery(query);
    const rows = await Promise.all(plan.levels.map((l) => store.readSeries(l.rows)));
    const inner = releasePolicy({ k: 10, approximateMargin: 0.03 });
    let spent = 0;
    let sweeps = 0;
    const policy = { k: 10, releasable: (c: any, p: any) => { const t = performance.now(); const r = inner.releasable(c, p); spent += performance.now() - t; sweeps++; return r; } };
    for (let i = 0; i < 20; i++) buildMetricAnswer(query, plan, rows, policy);
    const times: number[] = [];
    for (let i = 0; i < 50; i++) { const t = performance.now(); buildMetricAnswer(query, plan, rows, policy); times.push(performance.now() - t); }
    times.sort((a, b) => a - b);
    console.log('policy avg', (spent / sweeps).toFixed(2), 'ms;', metric, groupBy || '(ungrouped)', 'build+policy median', times[25]!.toFixed(2), 'ms, cells', rows.flat().length);
  }
  await db.close();
}
main();
