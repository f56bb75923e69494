import type { z } from 'zod';
import { INTERVAL_MS } from '../rollups/rollup';
import { QueryError, validateMetricQuery } from '../rollups/metric-query';
import { RANGE_MESSAGE, parseRange, rangeStart, type Widget, type WidgetQuery } from './dashboard';

/*
 * Whether each widget's query is one GET /v1/metrics/{metric} answers in full, now and on every
 * later day: the metric query's own validation (dimensions of the metric, filters, time zones,
 * at most 10,000 buckets) over the range as it reads today, and a range that does not reach back
 * past the rollups it is read from, which the purge would leave short.
 */

/** Reaching further back than this is no dashboard's business, and before 2000 no instant is taken. */
const MAX_RANGE_YEARS = 10;

export interface WidgetReach {
  /** Epoch ms: a range ends now. */
  readonly now: number;
  /** Days minute rollups are kept, where known. */
  readonly minuteRollupDays?: number | undefined;
  /** Days hour rollups are kept, where known: hours, and local days, weeks and months summed from them. */
  readonly hourRollupDays?: number | undefined;
}

/** The query's parameter at fault as the widget names it: its range is the query's from and to. */
const FIELD_OF: Readonly<Record<string, keyof WidgetQuery>> = { from: 'range', to: 'range' };

function queryProblem(query: WidgetQuery, reach: WidgetReach): { field: keyof WidgetQuery; message: string } | undefined {
  const range = parseRange(query.range);
  if (!range) return { field: 'range', message: RANGE_MESSAGE };
  const from = rangeStart(range, reach.now);
  if (from < rangeStart({ years: MAX_RANGE_YEARS, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0 }, reach.now)) {
    return { field: 'range', message: `reaches back more than ${MAX_RANGE_YEARS} years` };
  }
  const filter = Object.entries(query.filter ?? {}).flatMap(([dimension, values]) => values.map((value) => `${dimension}:${value}`));
  try {
    const asked = validateMetricQuery({ ...query, filter, from: new Date(from).toISOString(), to: new Date(reach.now).toISOString() });
    const keptDays = asked.storedInterval === 'minute' ? reach.minuteRollupDays : asked.storedInterval === 'hour' ? reach.hourRollupDays : undefined;
    if (keptDays !== undefined && asked.from < reach.now - keptDays * INTERVAL_MS.day) {
      const instead = asked.storedInterval === 'hour' && asked.calendar ? ', or UTC, whose days are kept' : '';
      return { field: 'range', message: `${asked.interval} buckets${asked.calendar ? ` in ${asked.timeZone}` : ''} are read from ${asked.storedInterval} rollups, kept ${keptDays} days; use a shorter range${instead}` };
    }
    return undefined;
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    return { field: FIELD_OF[error.parameter] ?? (error.parameter as keyof WidgetQuery), message: error.message };
  }
}

/**
 * The first widget whose query the metrics API would not answer in full, as an issue naming its
 * field (`widgets[1].query.groupBy`), or undefined.
 */
export function widgetQueryIssue(widgets: readonly Widget[], reach: WidgetReach): z.core.$ZodIssue | undefined {
  for (const [index, widget] of widgets.entries()) {
    const problem = queryProblem(widget.query, reach);
    if (problem) return { code: 'custom', path: ['widgets', index, 'query', problem.field], message: problem.message, input: widget.query[problem.field] };
  }
  return undefined;
}
