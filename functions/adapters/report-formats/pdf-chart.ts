/*
 * A report chart as vector drawing for the PDF renderer: react-pdf's Svg primitives become PDF
 * path operators, so the chart stays sharp at any zoom and its labels stay text. The geometry
 * (scales, ticks, the gaps a null point leaves) is computed here because no shared chart
 * geometry existed in the domain when this renderer was written.
 */
import { createElement as h, type ReactElement } from 'react';
import { cellText, type ChartPoint, type ReportChart } from '../../domain/reports/document';

/** Okabe-Ito colours: told apart by readers with any common colour-vision deficiency. */
/** The react-pdf components a chart is drawn with (pdf.ts says why they are passed in). */
type ChartPrimitives = Pick<typeof import('@react-pdf/renderer'), 'Circle' | 'G' | 'Line' | 'Path' | 'Svg' | 'Text' | 'View'>;

const SERIES_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

const HEIGHT = 190;
// The right margin leaves room for half of the last date label, centred on the last point.
const PLOT = { left: 52, right: 34, top: 20, bottom: 30 } as const;
const LABEL_SIZE = 7;
const MAX_X_LABELS = 6;
const Y_TICKS = 5;

export const seriesColour = (index: number): string => SERIES_COLOURS[index % SERIES_COLOURS.length] ?? '#000000';

interface ValueScale {
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
  readonly step: number;
}

/** A step of 1, 2 or 5 times a power of ten, so tick labels are round numbers. */
function roundStep(span: number, count: number): number {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const factor = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10;
  return factor * magnitude;
}

/** The value axis: round ticks that cover every value, from zero when bars need a baseline. */
export function valueScale(values: readonly number[], fromZero: boolean): ValueScale {
  let low = values.length > 0 ? Math.min(...values) : 0;
  let high = values.length > 0 ? Math.max(...values) : 1;
  if (fromZero) {
    low = Math.min(low, 0);
    high = Math.max(high, 0);
  }
  if (low === high) {
    const pad = Math.abs(low) > 0 ? Math.abs(low) / 10 : 1;
    low -= pad;
    high += pad;
  }
  const step = roundStep(high - low, Y_TICKS);
  const min = Math.floor(low / step) * step;
  const max = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  // toPrecision drops the float noise that repeated addition of a decimal step leaves.
  for (let tick = min; tick <= max + step / 2; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { min, max, ticks, step };
}

/** Points that follow each other without a null between them: each is drawn as one stroke. */
export function unbrokenRuns<P extends ChartPoint>(points: readonly P[]): P[][] {
  const runs: P[][] = [];
  let current: P[] = [];
  for (const point of points) {
    if (point.value === null) {
      if (current.length > 0) runs.push(current);
      current = [];
    } else {
      current.push(point);
    }
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/** Up to `count` instants spread evenly over the sorted instants, always the first and last. */
export function labelledInstants(instants: readonly string[], count: number): string[] {
  if (instants.length <= count) return [...instants];
  const picked = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const instant = instants[Math.round((i * (instants.length - 1)) / (count - 1))];
    if (instant !== undefined) picked.add(instant);
  }
  return [...picked];
}

/** Buckets shorter than a day need the time as well as the date to tell them apart. */
function timeLabelFormat(instants: readonly number[]): 'date' | 'datetime' {
  for (let i = 1; i < instants.length; i += 1) {
    const previous = instants[i - 1];
    const current = instants[i];
    if (previous !== undefined && current !== undefined && current - previous < 20 * 3600 * 1000) return 'datetime';
  }
  return 'date';
}

function tickText(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return value.toLocaleString('en-GB', { maximumFractionDigits: decimals, minimumFractionDigits: decimals });
}

/**
 * The chart drawn into `width` points: a value axis in the chart's unit, a time axis labelled in
 * the reader's zone, a line per series (with a gap where a point is null) or grouped bars (none
 * where a point is null, a hairline where it is zero).
 */
export function chartDrawing(
  { Circle, G, Line, Path, Svg, Text, View }: ChartPrimitives,
  chart: ReportChart,
  width: number,
  timeZone: string,
): ReactElement {
  const label = (x: number, y: number, text: string, textAnchor: 'start' | 'middle' | 'end') =>
    h(Text, { key: `${x}:${y}:${text}`, x, y, textAnchor, fill: '#333333', style: { fontSize: LABEL_SIZE } }, text);
  const plotWidth = width - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const bottom = PLOT.top + plotHeight;

  const instants = [...new Set(chart.series.flatMap((series) => series.points.map((point) => point.at)))].sort(
    (a, b) => Date.parse(a) - Date.parse(b),
  );
  const times = instants.map((instant) => Date.parse(instant));
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? first;
  const values = chart.series.flatMap((series) => series.points.flatMap((point) => (point.value === null ? [] : [point.value])));
  const scale = valueScale(values, chart.type === 'bar');
  const y = (value: number) => bottom - ((value - scale.min) / (scale.max - scale.min)) * plotHeight;

  // Lines sit on a time axis (a 23-hour day is shorter); bars each take an equal band.
  const band = plotWidth / Math.max(instants.length, 1);
  const bandIndex = new Map(instants.map((instant, index) => [instant, index]));
  const x =
    chart.type === 'bar'
      ? (instant: string) => PLOT.left + ((bandIndex.get(instant) ?? 0) + 0.5) * band
      : (instant: string) => PLOT.left + (last === first ? plotWidth / 2 : ((Date.parse(instant) - first) / (last - first)) * plotWidth);

  const grid = scale.ticks.map((tick) =>
    h(
      G,
      { key: `y${tick}` },
      h(Line, { x1: PLOT.left, x2: PLOT.left + plotWidth, y1: y(tick), y2: y(tick), stroke: '#dddddd', strokeWidth: 0.5 }),
      label(PLOT.left - 4, y(tick) + LABEL_SIZE / 3, tickText(tick, scale.step), 'end'),
    ),
  );
  const format = timeLabelFormat(times);
  const timeLabels = labelledInstants(instants, MAX_X_LABELS).map((instant) =>
    h(
      G,
      { key: `x${instant}` },
      h(Line, { x1: x(instant), x2: x(instant), y1: bottom, y2: bottom + 3, stroke: '#333333', strokeWidth: 0.5 }),
      label(x(instant), bottom + 4 + LABEL_SIZE, cellText(instant, format, timeZone), 'middle'),
    ),
  );
  const axes = [
    h(Line, { key: 'y-axis', x1: PLOT.left, x2: PLOT.left, y1: PLOT.top, y2: bottom, stroke: '#333333', strokeWidth: 0.75 }),
    h(Line, { key: 'x-axis', x1: PLOT.left, x2: PLOT.left + plotWidth, y1: bottom, y2: bottom, stroke: '#333333', strokeWidth: 0.75 }),
    label(PLOT.left - 4, PLOT.top - 8, chart.unit, 'start'),
    label(PLOT.left + plotWidth, HEIGHT - 2, `${format === 'date' ? 'date' : 'time'} (${timeZone})`, 'end'),
  ];

  const marks = chart.series.map((series, index) => {
    const colour = seriesColour(index);
    if (chart.type === 'bar') {
      const barWidth = (band * 0.8) / chart.series.length;
      const baseline = y(Math.max(scale.min, Math.min(0, scale.max)));
      // One path of rectangles per series: a year of daily bars is one node to lay out, not 365.
      const d = series.points
        .flatMap((point) => {
          if (point.value === null) return [];
          const left = x(point.at) - band * 0.4 + index * barWidth;
          // A zero keeps a hairline bar so it never looks like a null point, which has none.
          const height = Math.max(Math.abs(baseline - y(point.value)), 0.75);
          const top = point.value >= 0 ? baseline - height : baseline;
          return [`M${left.toFixed(2)} ${top.toFixed(2)}h${barWidth.toFixed(2)}v${height.toFixed(2)}h${(-barWidth).toFixed(2)}Z`];
        })
        .join('');
      return h(Path, { key: `s${index}`, d, fill: colour });
    }
    return h(
      G,
      { key: `s${index}` },
      unbrokenRuns(series.points).map((run) => {
        const [only] = run;
        // A point with nulls on both sides has no neighbour to draw a line to: mark it alone.
        if (run.length === 1 && only?.value != null) return h(Circle, { key: only.at, cx: x(only.at), cy: y(only.value), r: 1.5, fill: colour });
        const d = run.map((point, i) => `${i === 0 ? 'M' : 'L'}${x(point.at).toFixed(2)} ${y(point.value ?? 0).toFixed(2)}`).join(' ');
        return h(Path, { key: run[0]?.at ?? 'run', d, stroke: colour, strokeWidth: 1.25, fill: 'none', strokeLinejoin: 'round' });
      }),
    );
  });

  const legend =
    chart.series.length > 1
      ? h(
          View,
          { style: { flexDirection: 'row', flexWrap: 'wrap', marginTop: 2, marginBottom: 2 } },
          chart.series.map((series, index) =>
            h(
              View,
              { key: series.name, style: { flexDirection: 'row', alignItems: 'center', marginRight: 10 } },
              h(View, { style: { width: 8, height: 8, backgroundColor: seriesColour(index), marginRight: 3 } }),
              h(Text, { style: { fontSize: 8 } }, series.name),
            ),
          ),
        )
      : null;

  return h(View, { wrap: false }, h(Svg, { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}` }, [...grid, ...axes, ...timeLabels, ...marks]), legend);
}
