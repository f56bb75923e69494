import { bucketTextFormat, chartGeometry, labelledBuckets, niceTicks, pathOf } from '../../../functions/domain/reports/chart-geometry';

const BOX = { left: 10, top: 0, width: 100, height: 100 };
const at = (day: number) => new Date(Date.UTC(2027, 2, day)).toISOString();

describe('chart geometry', () => {
  it('puts ticks on round values covering the data', () => {
    expect(niceTicks(812, 948)).toEqual([800, 850, 900, 950]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3.2, 4.25)).toEqual([-4, -2, 0, 2, 4, 6]);
    expect(niceTicks(5, 5)).toEqual([4, 4.5, 5, 5.5, 6]);
  });

  it('cuts a line where a point is null, and keeps a lone value as a run of one', () => {
    const geometry = chartGeometry(
      {
        type: 'line',
        series: [{ name: 's', points: [1, 2, null, 4, null, null, 5, 6].map((value, index) => ({ at: at(index + 1), value: value === null ? null : value * 10 })) }],
      },
      BOX,
    );

    expect(geometry.series[0]?.segments.map((segment) => segment.length)).toEqual([2, 1, 2]);
    expect(geometry.buckets.map((bucket) => bucket.x)).toEqual([16.25, 28.75, 41.25, 53.75, 66.25, 78.75, 91.25, 103.75]);
    expect(geometry.yTicks.map((tick) => [tick.value, tick.y])).toEqual([[10, 100], [20, 80], [30, 60], [40, 40], [50, 20], [60, 0]]);
    expect(pathOf(geometry.series[0]?.segments[0] ?? [])).toBe('M16.25 100 L28.75 80');
  });

  it('orders points by time whatever order they come in, and merges series on their instants', () => {
    const geometry = chartGeometry(
      {
        type: 'line',
        series: [
          { name: 'a', points: [{ at: at(3), value: 3 }, { at: at(1), value: 1 }] },
          { name: 'b', points: [{ at: at(2), value: 2 }] },
        ],
      },
      BOX,
    );

    expect(geometry.buckets.map((bucket) => bucket.at)).toEqual([at(1), at(2), at(3)]);
    expect(geometry.series[0]?.segments[0]?.map((point) => point.x)).toEqual([geometry.buckets[0]?.x, geometry.buckets[2]?.x]);
  });

  it('draws bars from zero, below it for negative values, and none for a null point', () => {
    const geometry = chartGeometry(
      { type: 'bar', series: [{ name: 's', points: [{ at: at(1), value: 20 }, { at: at(2), value: -10 }, { at: at(3), value: null }] }] },
      BOX,
    );
    const zero = geometry.yTicks.find((tick) => tick.value === 0)?.y;

    expect(geometry.yTicks.map((tick) => tick.value)).toEqual([-10, 0, 10, 20]);
    expect(geometry.baseline).toBe(zero);
    expect(geometry.series[0]?.bars.map((bar) => [bar.at, bar.y, bar.height])).toEqual([
      [at(1), 0, 66.67],
      [at(2), 66.67, 33.33],
    ]);
  });

  it('draws an axis and nothing else for a chart whose every point is withheld, or that has none', () => {
    const withheld = chartGeometry({ type: 'line', series: [{ name: 's', points: [{ at: at(1), value: null }, { at: at(2), value: null }] }] }, BOX);
    const empty = chartGeometry({ type: 'bar', series: [] }, BOX);

    expect(withheld.series[0]?.segments).toEqual([]);
    expect(withheld.buckets).toHaveLength(2);
    expect(withheld.yTicks.map((tick) => tick.value)).toContain(0);
    expect([empty.buckets, empty.series]).toEqual([[], []]);
    expect(empty.yTicks.every((tick) => Number.isFinite(tick.y))).toBe(true);
  });

  it('shows times of day only for buckets shorter than a day, a 23-hour day being a day', () => {
    expect(bucketTextFormat(['2027-03-27T00:00:00.000Z', '2027-03-28T00:00:00.000Z', '2027-03-28T23:00:00.000Z'])).toBe('date');
    expect(bucketTextFormat(['2027-03-28T00:00:00.000Z', '2027-03-28T01:00:00.000Z'])).toBe('datetime');
    expect(labelledBuckets(20, 8)).toEqual([0, 3, 6, 9, 12, 15, 18]);
    expect(labelledBuckets(5, 8)).toEqual([0, 1, 2, 3, 4]);
  });
});
