import {
  buildMetricAnswer,
  planMetricQuery,
  projectSeriesRows,
  validateMetricQuery,
  type MetricAnswer,
  type MetricQueryParams,
  type SeriesPlan,
  type SeriesRow,
} from '../domain/rollups/metric-query';
import { ESTIMATE_RELATIVE_ERROR } from '../domain/rollups/distinct-sketch';
import { releasePolicy } from '../domain/privacy/release-policy';
import type { RollupReader } from '../ports/rollups';

/**
 * An estimated count of users (above the sketch's exact range, so far above any k) enters the
 * release policy's bounds widened by four standard errors of the sketch, about 3 %.
 */
const ESTIMATE_MARGIN = 4 * ESTIMATE_RELATIVE_ERROR;

/**
 * GET /v1/metrics/{metric}. Throws QueryError (with the offending parameter) for bad input;
 * points the release policy withholds are left out, and `suppressed` says that some were.
 */
export async function queryMetric(store: RollupReader, request: MetricQueryParams, options: { readonly k: number }): Promise<MetricAnswer> {
  const query = validateMetricQuery(request);
  const plan = planMetricQuery(query);
  const rows = await Promise.all(plan.levels.map((level) => readSeries(store, level)));
  return buildMetricAnswer(query, plan, rows, releasePolicy({ k: options.k, approximateMargin: ESTIMATE_MARGIN }));
}

async function readSeries(store: RollupReader, plan: SeriesPlan): Promise<SeriesRow[]> {
  return plan.project ? projectSeriesRows(await store.readSeriesSketches(plan.rows), plan.project) : store.readSeries(plan.rows);
}
