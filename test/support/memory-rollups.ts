import type { SeriesSelection } from '../../functions/domain/rollups/metric-query';
import type { RollupRow } from '../../functions/domain/rollups/rollup';
import type { RollupReader } from '../../functions/ports/rollups';

/** The rollup reader port over rows computed in memory: the pure query paths without a database. */
export function memoryRollupReader(rows: readonly RollupRow[]): RollupReader {
  const selected = (plan: SeriesSelection) =>
    rows.filter((r) => r.metric === plan.metric && r.interval === plan.interval && r.grouping === plan.grouping && r.bucket >= plan.from && r.bucket < plan.to);
  return {
    readSeries: async (plan) =>
      selected(plan).map((r) => ({
        ...r,
        ...(r.quantiles ? { p50: r.quantiles.quantile(0.5), p95: r.quantiles.quantile(0.95) } : {}),
        users: r.users.estimate().count,
        usersApprox: r.users.estimate().approximate,
      })),
    readSeriesSketches: async (plan, spans) => selected(plan).filter((r) => !spans || spans.some((span) => r.bucket >= span.from && r.bucket < span.to)),
  };
}
