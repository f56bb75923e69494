import type { MetricAnswer } from '../../../functions/domain/rollups/metric-query';
import type { ReportChart, ReportTable } from '../../../functions/domain/reports/document';
import { dailySeries, metricTrendSection } from '../../../functions/domain/reports/metric-trends';

const DAY = 86_400_000;

/** An ungrouped daily answer in UTC over `days` days from `from`, with these counts (undefined: no point). */
function answer(from: string, counts: readonly (number | undefined)[], withheld = false): MetricAnswer {
  const start = Date.parse(from);
  return {
    metric: 'sessions',
    interval: 'day',
    timeZone: 'UTC',
    from,
    to: new Date(start + counts.length * DAY).toISOString(),
    groupBy: [],
    series: [{ group: {}, points: counts.flatMap((count, i) => (count === undefined ? [] : [{ t: new Date(start + i * DAY).toISOString(), count, users: count }])) }],
    suppressed: withheld ? [{ reason: 'k_anonymity' }] : [],
  };
}

describe('metric trends for a report', () => {
  it('reads a day without a point as no events, unless the gate withheld something: then as unknown, never zero', () => {
    expect(dailySeries(answer('2027-03-01T00:00:00.000Z', [5, undefined, 7]), 'count').map((point) => point.value)).toEqual([5, 0, 7]);
    expect(dailySeries(answer('2027-03-01T00:00:00.000Z', [5, undefined, 7], true), 'count').map((point) => point.value)).toEqual([5, null, 7]);
  });

  it('gives each metric its slope, trend and change on the period before and the baseline, and a chart with its gaps', () => {
    const rising = Array.from({ length: 14 }, (_, i) => 100 + 10 * i);
    const section = metricTrendSection('engagement', 'Engagement', [
      { label: 'Sessions', unit: 'sessions', figure: 'count', aggregate: 'mean', current: answer('2027-03-15T00:00:00.000Z', rising), previous: answer('2027-03-01T00:00:00.000Z', rising.map(() => 130)), baseline: answer('2027-01-04T00:00:00.000Z', rising.map(() => 0)) },
      { label: 'Crisis signals', unit: 'signals', figure: 'count', aggregate: 'sum', current: answer('2027-03-15T00:00:00.000Z', [3, undefined, 4], true), previous: answer('2027-03-12T00:00:00.000Z', [1, 1, 1]) },
    ]);
    const [table, chart] = section.blocks as [ReportTable, ReportChart];

    // Mean 165 a day against 130: 26.9 % up; the baseline's zero leaves no relative change.
    expect(table.rows[0]).toEqual(['Sessions (sessions, mean of a day)', 165, 10, 10, 10, expect.stringMatching(/^rising \(p = /), 35 / 130, { withheld: 'not_enough_data' }]);
    // Three days, one withheld: no figure for the period, no trend, and the change withheld.
    expect(table.rows[1]).toEqual(['Crisis signals (signals, total)', { withheld: 'k_anonymity' }, ...Array(4).fill({ withheld: 'not_enough_data' }), { withheld: 'k_anonymity' }, null]);
    expect(chart.series[0]!.points).toHaveLength(14);
    expect((section.blocks[2] as ReportChart).series[0]!.points.map((point) => point.value)).toEqual([3, null, 4]);
  });
});
