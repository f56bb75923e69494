import { useEffect, useRef } from 'react';
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { CatalogueEntry, MetricAnswer, MetricPoint } from '../api';
import { Suppressed } from './Status';
import type { ChartKind } from './chart-kinds';
import { PALETTE, TableRegion, shade } from './format';



/** The one number a point stands for: events for a counter, the median for a distribution, people for a distinct count. */
export function valueOf(kind: CatalogueEntry['kind'] | undefined, point: MetricPoint): number | undefined {
  if (kind === 'distribution') return point.p50 ?? point.mean;
  if (kind === 'distinct') return point.users;
  return point.count;
}

export const groupLabel = (group: Record<string, string>): string => Object.values(group).join(' · ') || 'all';

function bucketLabel(t: string, interval: string): string {
  const local = t.slice(0, interval === 'month' ? 7 : interval === 'day' || interval === 'week' ? 10 : 16).replace('T', ' ');
  return local;
}

interface Table {
  readonly buckets: string[];
  readonly series: { label: string; values: Map<string, number> }[];
}

/** Buckets on one axis for every group; a bucket a group lacks stays empty (a gap), never 0. */
function tabulate(answer: MetricAnswer, kind: CatalogueEntry['kind'] | undefined): Table {
  const buckets = [...new Set(answer.series.flatMap((series) => series.points.map((point) => point.t)))].sort();
  const series = answer.series.map((one) => {
    const values = new Map<string, number>();
    for (const point of one.points) {
      const value = valueOf(kind, point);
      if (value !== undefined) values.set(point.t, value);
    }
    return { label: groupLabel(one.group), values };
  });
  return { buckets, series };
}

const format = (value: number) => (Number.isInteger(value) ? value.toLocaleString('en') : value.toLocaleString('en', { maximumFractionDigits: 2 }));

/** `onDrawn` hears when the chart first stands on the page. */
export function MetricChart({ answer, chart, kind, title, height = 260, onDrawn }: { answer: MetricAnswer; chart: ChartKind; kind: CatalogueEntry['kind'] | undefined; title: string; height?: number; onDrawn?: () => void }) {
  const drawn = useRef(onDrawn);
  useEffect(() => drawn.current?.(), []);
  const table = tabulate(answer, kind);
  const withheld = answer.suppressed.length > 0;
  const missing = withheld ? 'suppressed' : '0';
  if (table.buckets.length === 0) {
    return (
      <>
        <p className="notice">{withheld ? 'Every point of this range was withheld: fewer than k people.' : 'No data in this range.'}</p>
        <Suppressed withheld={withheld} />
      </>
    );
  }
  const body = (() => {
    if (chart === 'number') {
      const last = table.buckets[table.buckets.length - 1]!;
      return (
        <div className="big-numbers">
          {table.series.map((series) => {
            const value = series.values.get(last);
            return (
              <p key={series.label}>
                <span className="big">{value === undefined ? missing : format(value)}</span> <span className="hint">{series.label}, {bucketLabel(last, answer.interval)}</span>
              </p>
            );
          })}
        </div>
      );
    }
    if (chart === 'table' || chart === 'heatmap') {
      const max = Math.max(1, ...table.series.flatMap((series) => [...series.values.values()]));
      return (
        <TableRegion label={title}>
          <table className={chart}>
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{chart === 'heatmap' ? 'group' : 'bucket'}</th>
                {chart === 'heatmap' ? table.buckets.map((bucket) => <th key={bucket} scope="col">{bucketLabel(bucket, answer.interval)}</th>) : table.series.map((series) => <th key={series.label} scope="col">{series.label}</th>)}
              </tr>
            </thead>
            <tbody>
              {chart === 'heatmap'
                ? table.series.map((series) => (
                    <tr key={series.label}>
                      <th scope="row">{series.label}</th>
                      {table.buckets.map((bucket) => {
                        const value = series.values.get(bucket);
                        const share = value === undefined ? 0 : value / max;
                        return (
                          <td key={bucket} className={value === undefined ? 'withheld' : undefined} style={value === undefined ? undefined : shade(share)}>
                            {value === undefined ? missing : format(value)}
                          </td>
                        );
                      })}
                    </tr>
                  ))
                : table.buckets.map((bucket) => (
                    <tr key={bucket}>
                      <th scope="row">{bucketLabel(bucket, answer.interval)}</th>
                      {table.series.map((series) => {
                        const value = series.values.get(bucket);
                        return (
                          <td key={series.label} className={value === undefined && withheld ? 'withheld' : undefined}>
                            {value === undefined ? missing : format(value)}
                          </td>
                        );
                      })}
                    </tr>
                  ))}
            </tbody>
          </table>
        </TableRegion>
      );
    }
    const rows = table.buckets.map((bucket) => {
      const row: Record<string, string | number | null> = { bucket: bucketLabel(bucket, answer.interval) };
      // null, not 0: recharts draws a gap where a point was withheld.
      for (const series of table.series) row[series.label] = series.values.get(bucket) ?? (withheld ? null : 0);
      return row;
    });
    const Chart = chart === 'bar' ? BarChart : chart === 'area' ? AreaChart : LineChart;
    return (
      <figure aria-label={title} className="chart">
        <ResponsiveContainer width="100%" height={height}>
          <Chart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="bucket" minTickGap={24} />
            <YAxis allowDecimals={kind === 'distribution'} />
            <Tooltip />
            {table.series.length > 1 && <Legend />}
            {table.series.map((series, index) => {
              const colour = PALETTE[index % PALETTE.length]!;
              if (chart === 'bar') return <Bar key={series.label} dataKey={series.label} fill={colour} isAnimationActive={false} />;
              if (chart === 'area') return <Area key={series.label} dataKey={series.label} stroke={colour} fill={colour} fillOpacity={0.2} connectNulls={false} isAnimationActive={false} />;
              return <Line key={series.label} dataKey={series.label} stroke={colour} dot={false} connectNulls={false} isAnimationActive={false} />;
            })}
          </Chart>
        </ResponsiveContainer>
      </figure>
    );
  })();
  return (
    <>
      {body}
      <Suppressed withheld={withheld} />
    </>
  );
}
