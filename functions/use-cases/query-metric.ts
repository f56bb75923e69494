import { buildMetricAnswer, groupsNeedingUsers, planMetricQuery, validateMetricQuery, type MetricAnswer, type MetricQueryParams } from '../domain/rollups/metric-query';
import type { RollupStore } from '../ports/rollups';

/**
 * GET /v1/metrics/{metric}. Throws QueryError (with the offending parameter) for bad input;
 * groups of fewer than `k` distinct users over the range come back in `suppressed`.
 */
export async function queryMetric(store: RollupStore, request: MetricQueryParams, options: { readonly k: number }): Promise<MetricAnswer> {
  const query = validateMetricQuery(request);
  const plan = planMetricQuery(query);
  const [series, maxima] = await Promise.all([store.readSeries(plan.series), store.readGroupTileMaxima(plan.users)]);
  const unsettled = groupsNeedingUsers(series, maxima, options.k);
  const users = unsettled.length > 0 ? await store.readGroupUsers(plan.users, unsettled) : [];
  return buildMetricAnswer(query, series, maxima, users, options);
}
