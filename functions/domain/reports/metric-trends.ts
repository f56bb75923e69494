import type { MetricAnswer, MetricPoint } from '../rollups/metric-query';
import { calendarBounds } from '../rollups/calendar';
import type { ReportCell, ReportChart, ReportSection, ReportTable } from './document';
import { changeBetween, periodFigure, trendOf, type Change, type PeriodAggregate, type SeriesPoint } from './trends';

/*
 * A report section of metrics over the period (issue 17): each metric's daily series on the
 * reader's calendar as a chart, and a table of its trend (Theil-Sen slope with its interval and
 * Mann-Kendall's verdict) and its change against the period before and a stored baseline period.
 * The series come from GET /v1/metrics' own answers, so they passed the release gate there.
 */

export interface MetricSeriesAnswers {
  readonly label: string;
  readonly unit: string;
  /** The point's figure to read: a count, distinct users, or a distribution's mean or median. */
  readonly figure: 'count' | 'users' | 'mean' | 'p50';
  /** Periods of unequal length compare by the mean of a day, never by a sum (trends.ts). */
  readonly aggregate: PeriodAggregate;
  /** Ungrouped answers at interval day in the reader's zone. */
  readonly current: MetricAnswer;
  readonly previous: MetricAnswer;
  readonly baseline?: MetricAnswer;
}

/**
 * An answer's daily points, a point for every local day of its range. The release gate leaves a
 * withheld point out like an empty day and says only that something was withheld: where it did,
 * a missing day is unknown (null, a gap), never zero; where it did not, a missing day had no events.
 */
export function dailySeries(answer: MetricAnswer, figure: MetricSeriesAnswers['figure']): SeriesPoint[] {
  const byStart = new Map<number, MetricPoint>();
  for (const point of answer.series[0]?.points ?? []) byStart.set(Date.parse(point.t), point);
  const missing = answer.suppressed.length > 0 || figure === 'mean' || figure === 'p50' ? null : 0;
  const bounds = calendarBounds(Date.parse(answer.from), Date.parse(answer.to), 'day', answer.timeZone);
  return bounds.slice(0, -1).map((start) => {
    const point = byStart.get(start);
    return { at: new Date(start).toISOString(), value: point ? (point[figure] ?? null) : missing };
  });
}

const NOT_ENOUGH: ReportCell = { withheld: 'not_enough_data' };
const WITHHELD: ReportCell = { withheld: 'k_anonymity' };

/** A change's relative figure as a cell: withheld where a side was, not enough data where a side was empty or zero. */
function relativeCell(change: Change): ReportCell {
  if (change.relative !== null) return change.relative;
  return change.gap === 'current_suppressed' || change.gap === 'reference_suppressed' ? WITHHELD : NOT_ENOUGH;
}

const DIRECTION_TEXT = { increasing: 'rising', decreasing: 'falling', 'no trend': 'no clear trend' } as const;

export function metricTrendSection(id: string, heading: string, metrics: readonly MetricSeriesAnswers[]): ReportSection {
  const rows: ReportCell[][] = [];
  const charts: ReportChart[] = [];
  for (const metric of metrics) {
    const current = dailySeries(metric.current, metric.figure);
    const trend = trendOf(current, { interval: 'day', timeZone: metric.current.timeZone });
    const figureOf = (answer: MetricAnswer) => periodFigure(dailySeries(answer, metric.figure), metric.aggregate);
    const thisPeriod = periodFigure(current, metric.aggregate);
    const previous = changeBetween(thisPeriod, figureOf(metric.previous));
    const baseline = metric.baseline ? changeBetween(thisPeriod, figureOf(metric.baseline)) : undefined;
    const ok = trend.status === 'ok' ? trend : undefined;
    rows.push([
      `${metric.label} (${metric.unit}, ${metric.aggregate === 'mean' ? 'mean of a day' : 'total'})`,
      thisPeriod.value ?? (thisPeriod.reason === 'suppressed' ? WITHHELD : null),
      ok ? ok.slope.perDay : NOT_ENOUGH,
      ok ? ok.slope.lower : NOT_ENOUGH,
      ok ? ok.slope.upper : NOT_ENOUGH,
      ok ? `${DIRECTION_TEXT[ok.mannKendall.direction]} (p = ${ok.mannKendall.pValue.toPrecision(2)})${ok.method === 'seasonal-mann-kendall' ? ', by weekday' : ''}` : NOT_ENOUGH,
      relativeCell(previous),
      baseline ? relativeCell(baseline) : null,
    ]);
    const shown = current.filter((point) => point.value !== null);
    charts.push({
      kind: 'chart',
      title: `${metric.label} per day`,
      description: `${metric.label} per day (${metric.unit}) from ${current[0]?.at.slice(0, 10) ?? 'the start'}: ${shown.length} of ${current.length} days shown${
        ok ? `, ${DIRECTION_TEXT[ok.mannKendall.direction]}` : ''
      }; a gap is a day withheld or unknown, not zero.`,
      type: 'line',
      unit: metric.unit,
      series: [{ name: metric.label, points: current }],
    });
  }
  const table: ReportTable = {
    kind: 'table',
    caption: 'Trend over the period, and change against the period before and the baseline',
    columns: [
      { label: 'Metric', format: 'text' },
      { label: 'This period', format: 'decimal' },
      { label: 'Slope', format: 'decimal', unit: 'a day' },
      { label: 'Slope, 95 % low', format: 'decimal', unit: 'a day' },
      { label: 'Slope, 95 % high', format: 'decimal', unit: 'a day' },
      { label: 'Trend (Mann-Kendall)', format: 'text' },
      { label: 'Change on the period before', format: 'percent' },
      { label: 'Change on the baseline', format: 'percent' },
    ],
    rows,
  };
  return { id, heading, blocks: [table, ...charts] };
}
