import {
  buildMetricAnswer,
  planMetricQuery,
  projectSeriesRows,
  validateMetricQuery,
  type MetricAnswer,
  type MetricQueryParams,
  type SeriesPlan,
  type SeriesRow,
  type SeriesSketchRow,
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
  return buildMetricAnswer(query, plan, await readLevels(store, plan.levels), releasePolicy({ k: options.k, approximateMargin: ESTIMATE_MARGIN }));
}

/**
 * Each level's rows. Minute levels of groupings not stored at minute are all summed from the
 * finest grouping's rows over the same span: those are read once and projected per level
 * (projecting builds new rows and leaves the read ones as they were).
 */
async function readLevels(store: RollupReader, levels: readonly SeriesPlan[]): Promise<SeriesRow[][]> {
  const finest = new Map<string, Promise<SeriesSketchRow[]>>();
  return Promise.all(
    levels.map(async ({ rows, project }) => {
      if (!project) return store.readSeries(rows);
      const id = `${rows.interval}\u0000${rows.grouping}\u0000${rows.from}\u0000${rows.to}`;
      let read = finest.get(id);
      if (!read) finest.set(id, (read = store.readSeriesSketches(rows)));
      return projectSeriesRows(await read, project);
    }),
  );
}
