import {
  buildMetricAnswer,
  groupsNeedingUsers,
  planMetricQuery,
  projectSeriesRows,
  validateMetricQuery,
  type GroupUsersRow,
  type MetricAnswer,
  type MetricQueryParams,
  type ReadPlan,
  type SeriesRow,
} from '../domain/rollups/metric-query';
import { releaseGate } from '../domain/privacy/release-gate';
import type { RollupReader } from '../ports/rollups';

/**
 * GET /v1/metrics/{metric}. Throws QueryError (with the offending parameter) for bad input;
 * groups of fewer than `k` distinct users over the range come back in `suppressed`.
 */
export async function queryMetric(store: RollupReader, request: MetricQueryParams, options: { readonly k: number }): Promise<MetricAnswer> {
  const query = validateMetricQuery(request);
  const plan = planMetricQuery(query);
  const [series, partMaxima] = await Promise.all([readSeries(store, plan.series), Promise.all(plan.users.map((part) => store.readGroupTileMaxima(part.rows)))]);
  // A stored group's maximum is a lower bound of its projected group's distinct users.
  const maxima = new Map<string, number>();
  plan.users.forEach((part, i) => {
    for (const [storedKey, users] of partMaxima[i]!) {
      const groupKey = part.project ? part.project(storedKey) : storedKey;
      maxima.set(groupKey, Math.max(maxima.get(groupKey) ?? 0, users));
    }
  });
  const gate = releaseGate(options.k);
  const unsettled = groupsNeedingUsers(series, maxima, gate);
  const users = unsettled.length > 0 ? await readGroupUsers(store, plan.users, partMaxima, new Set(unsettled)) : [];
  return buildMetricAnswer(query, series, maxima, users, gate);
}

async function readSeries(store: RollupReader, plan: ReadPlan['series']): Promise<SeriesRow[]> {
  return plan.project ? projectSeriesRows(await store.readSeriesSketches(plan.rows), plan.project) : store.readSeries(plan.rows);
}

/** The users sketches of `groupKeys`, per stored row; a projected part's stored keys are those its maxima listed. */
async function readGroupUsers(
  store: RollupReader,
  parts: ReadPlan['users'],
  partMaxima: readonly ReadonlyMap<string, number>[],
  groupKeys: ReadonlySet<string>,
): Promise<GroupUsersRow[]> {
  const rows = await Promise.all(
    parts.map(async (part, i) => {
      const { project } = part;
      if (!project) return store.readGroupUsers(part.rows, [...groupKeys]);
      const storedKeys = [...partMaxima[i]!.keys()].filter((key) => groupKeys.has(project(key)));
      const stored = storedKeys.length > 0 ? await store.readGroupUsers(part.rows, storedKeys) : [];
      return stored.map((row) => ({ groupKey: project(row.groupKey), users: row.users }));
    }),
  );
  return rows.flat();
}
