import {
  buildMetricAnswer,
  decidableSelection,
  metricReleasePolicy,
  planFrom,
  planMetricQuery,
  projectSeriesRows,
  requireKeptHours,
  seriesRowOf,
  sumSketchRows,
  usedMergedRows,
  validateMetricQuery,
  type DecidedHours,
  type LevelPlan,
  type MergedRows,
  type MetricAnswer,
  type MetricQuery,
  type MetricQueryParams,
  type SeriesRow,
  type SeriesSketchRow,
} from '../domain/rollups/metric-query';
import type { RollupReader } from '../ports/rollups';

/**
 * GET /v1/metrics/{metric}. Throws QueryError (with the offending parameter) for bad input;
 * points the release policy withholds are left out, and `suppressed` says that some were.
 */
export async function queryMetric(store: RollupReader, request: MetricQueryParams, options: { readonly k: number; readonly hoursKeptFrom?: number | undefined }): Promise<MetricAnswer> {
  const query = validateMetricQuery(request);
  if (options.hoursKeptFrom !== undefined) requireKeptHours(query, options.hoursKeptFrom);
  const whole = planMetricQuery(query);
  // The days the store has decided are read as their own cells alone; the policy decides the rest.
  const selection = decidableSelection(query, whole);
  const decided = selection && store.readDecidedHours ? await store.readDecidedHours(selection, options.k) : undefined;
  const plan = decided ? planFrom(whole, decided.until) : whole;
  const { rows, merged } = await readLevels(store, query, plan.levels, whole.levels, decided);
  return buildMetricAnswer(query, plan, rows, metricReleasePolicy(options.k), merged, decided);
}

/**
 * Each level's rows. Minute levels of groupings not stored at minute are all summed from the
 * finest grouping's rows over the same span: those are read once and projected per level
 * (projecting builds new rows and leaves the read ones as they were). Levels whose cells points
 * merge (local buckets, filtered cells) are read with their sketches over the whole query
 * (`wholeLevels`: the days the store decided are summed too), and their points taken from those;
 * of those, the rows no point sums and the table does not decide need not be read.
 */
async function readLevels(store: RollupReader, query: MetricQuery, levels: readonly LevelPlan[], wholeLevels: readonly LevelPlan[], decided: DecidedHours | undefined): Promise<{ rows: SeriesRow[][]; merged: MergedRows }> {
  const finest = new Map<string, Promise<SeriesSketchRow[]>>();
  const merged: (SeriesSketchRow[] | undefined)[] = levels.map(() => undefined);
  const rows = await Promise.all(
    levels.map(async (level, l) => {
      const { rows: selection, project, merged: summedLocally } = level;
      if (summedLocally) {
        const { rows: whole, spans } = wholeLevels[l]!;
        if (whole.from >= whole.to) return [];
        const parts = await store.readSeriesSketches(whole, spans, usedMergedRows(query, level, decided), decided);
        const levelRows = project ? sumSketchRows(parts, project) : parts;
        merged[l] = levelRows;
        // The table decides the cells from the level's own start on; the store decided the rest.
        return levelRows.filter((row) => row.bucket >= selection.from && row.bucket < selection.to).map(seriesRowOf);
      }
      if (selection.from >= selection.to) return [];
      if (!project) return store.readSeries(selection);
      const id = `${selection.interval}\u0000${selection.grouping}\u0000${selection.from}\u0000${selection.to}`;
      let read = finest.get(id);
      if (!read) finest.set(id, (read = store.readSeriesSketches(selection)));
      return projectSeriesRows(await read, project);
    }),
  );
  return { rows, merged };
}
