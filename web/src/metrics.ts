import { api, queryString, type CatalogueEntry, type MetricAnswer } from './api';

export interface WidgetQuery {
  metric: string;
  interval: 'minute' | 'hour' | 'day' | 'week' | 'month';
  groupBy?: string[];
  /** Per dimension, the values kept: `{"platform": ["ios"]}`. */
  filter?: Record<string, string[]>;
  timeZone?: string;
  /** An ISO-8601 duration back from now: P30D, P4W, PT6H, P3M. */
  range: string;
}

export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const;

const DURATION = /^P(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(\d+)H)?$/;

/** The range a relative duration names, ending now. */
export function rangeOf(range: string, now: Date = new Date()): { from: string; to: string } {
  const match = DURATION.exec(range);
  if (!match || range === 'P' || range === 'PT') throw new Error(`range ${range} is not a duration such as P30D, P4W, PT6H or P3M`);
  const [, months, weeks, days, hours] = match.map((part) => Number(part ?? 0));
  const from = new Date(now);
  from.setUTCMonth(from.getUTCMonth() - months!);
  from.setTime(from.getTime() - ((weeks! * 7 + days!) * 24 + hours!) * 3_600_000);
  return { from: from.toISOString(), to: now.toISOString() };
}

/** The API's `filter` parameter: `platform:ios,platform:android`. */
const filterText = (filter: Record<string, string[]>): string =>
  Object.entries(filter)
    .flatMap(([dimension, values]) => values.map((value) => `${dimension}:${value}`))
    .join(',');

/** `platform:ios, scenarioId:forest-path` as the object a widget keeps; a term without a colon is left for the API to name. */
export function parseFilter(text: string): Record<string, string[]> | undefined {
  const filter: Record<string, string[]> = {};
  for (const term of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const colon = term.indexOf(':');
    const [dimension, value] = colon < 0 ? [term, ''] : [term.slice(0, colon), term.slice(colon + 1)];
    (filter[dimension] ??= []).push(value);
  }
  return Object.keys(filter).length > 0 ? filter : undefined;
}

export function metricPath(query: WidgetQuery, range: { from: string; to: string } = rangeOf(query.range)): string {
  return `/v1/metrics/${encodeURIComponent(query.metric)}${queryString({
    ...range,
    interval: query.interval,
    groupBy: query.groupBy?.join(','),
    filter: query.filter && filterText(query.filter),
    timeZone: query.timeZone,
  })}`;
}

export const readMetric = (token: string, query: WidgetQuery, range?: { from: string; to: string }): Promise<MetricAnswer> => api<MetricAnswer>(token, 'GET', metricPath(query, range));

// The catalogue changes only with a release: read once per token.
const catalogues = new Map<string, Promise<CatalogueEntry[]>>();
export function readCatalogue(token: string): Promise<CatalogueEntry[]> {
  let catalogue = catalogues.get(token);
  if (!catalogue) {
    catalogue = api<{ metrics: CatalogueEntry[] }>(token, 'GET', '/v1/metrics').then((answer) => answer.metrics);
    catalogue.catch(() => catalogues.delete(token));
    catalogues.set(token, catalogue);
  }
  return catalogue;
}
