/*
 * A report chart as vector drawing for the PDF renderer: react-pdf's Svg primitives become PDF
 * path operators, so the chart stays sharp at any zoom and its labels stay text. Where the marks
 * go is the shared chart geometry's (the HTML report draws the same chart); this file chooses
 * the labels and the look.
 */
import { createElement as h, type ReactElement } from 'react';
import { bucketTextFormat, chartGeometry, labelledBuckets, pathOf } from '../../domain/reports/chart-geometry';
import { cellText, type ReportChart } from '../../domain/reports/document';
import { tagged } from './pdf-structure';

/** The react-pdf components a chart is drawn with (pdf.ts says why they are passed in). */
type ChartPrimitives = Pick<typeof import('@react-pdf/renderer'), 'Circle' | 'G' | 'Line' | 'Path' | 'Svg' | 'Text' | 'View'>;

/** Okabe-Ito colours: told apart by readers with any common colour-vision deficiency. */
const SERIES_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

const HEIGHT = 190;
// The right margin leaves room for half of a date label centred on the last bucket.
const PLOT = { left: 52, right: 34, top: 20, bottom: 30 } as const;
const LABEL_SIZE = 7;
const MAX_X_LABELS = 6;
/** A zero bar keeps this height, so it never looks like a null point, which has no bar. */
const HAIRLINE = 0.75;

const seriesColour = (index: number): string => SERIES_COLOURS[index % SERIES_COLOURS.length] ?? '#000000';

/** Tick labels with as many decimals as the step between ticks needs. */
function tickText(value: number, step: number): string {
  const decimals = step > 0 ? Math.max(0, -Math.floor(Math.log10(step))) : 0;
  return value.toLocaleString('en-GB', { maximumFractionDigits: decimals, minimumFractionDigits: decimals });
}

/**
 * The chart drawn into `width` points: a value axis in the chart's unit, a time axis labelled in
 * the reader's zone, a line per series (with a gap where a point is null) or grouped bars (none
 * where a point is null, a hairline where it is zero), and a legend when there are several series.
 */
export function chartDrawing(
  { Circle, G, Line, Path, Svg, Text, View }: ChartPrimitives,
  chart: ReportChart,
  width: number,
  timeZone: string,
): ReactElement {
  const box = { left: PLOT.left, top: PLOT.top, width: width - PLOT.left - PLOT.right, height: HEIGHT - PLOT.top - PLOT.bottom };
  const geometry = chartGeometry(chart, box);
  const bottom = box.top + box.height;
  const label = (x: number, y: number, text: string, textAnchor: 'start' | 'middle' | 'end') =>
    h(Text, { key: `${x}:${y}:${text}`, x, y, textAnchor, fill: '#333333', style: { fontSize: LABEL_SIZE } }, text);

  const [firstTick, secondTick] = geometry.yTicks;
  const step = firstTick && secondTick ? secondTick.value - firstTick.value : 1;
  const grid = geometry.yTicks.map((tick) =>
    h(
      G,
      { key: `y${tick.value}` },
      h(Line, { x1: box.left, x2: box.left + box.width, y1: tick.y, y2: tick.y, stroke: '#dddddd', strokeWidth: 0.5 }),
      label(box.left - 4, tick.y + LABEL_SIZE / 3, tickText(tick.value, step), 'end'),
    ),
  );
  const format = bucketTextFormat(geometry.buckets.map((bucket) => bucket.at));
  const timeLabels = labelledBuckets(geometry.buckets.length, MAX_X_LABELS).flatMap((index) => {
    const bucket = geometry.buckets[index];
    if (bucket === undefined) return [];
    return [
      h(
        G,
        { key: `x${bucket.at}` },
        h(Line, { x1: bucket.x, x2: bucket.x, y1: bottom, y2: bottom + 3, stroke: '#333333', strokeWidth: 0.5 }),
        label(bucket.x, bottom + 4 + LABEL_SIZE, cellText(bucket.at, format, timeZone), 'middle'),
      ),
    ];
  });
  const axes = [
    h(Line, { key: 'y-axis', x1: box.left, x2: box.left, y1: box.top, y2: bottom, stroke: '#333333', strokeWidth: 0.75 }),
    h(Line, { key: 'x-axis', x1: box.left, x2: box.left + box.width, y1: geometry.baseline, y2: geometry.baseline, stroke: '#333333', strokeWidth: 0.75 }),
    label(box.left - 4, box.top - 8, chart.unit, 'start'),
    label(box.left + box.width, HEIGHT - 2, `${format === 'date' ? 'date' : 'time'} (${timeZone})`, 'end'),
  ];

  const marks = geometry.series.map((series, index) => {
    const colour = seriesColour(index);
    if (chart.type === 'bar') {
      // One path of rectangles per series: a year of daily bars is one node to lay out, not 365.
      const d = series.bars
        .map((bar) => {
          const height = Math.max(bar.height, HAIRLINE);
          const top = bar.y < geometry.baseline || bar.height === 0 ? geometry.baseline - height : bar.y;
          return `M${bar.x} ${top}h${bar.width}v${height}h${-bar.width}Z`;
        })
        .join('');
      return h(Path, { key: `s${index}`, d, fill: colour });
    }
    return h(
      G,
      { key: `s${index}` },
      series.segments.map((segment, segmentIndex) => {
        const [only] = segment;
        // A point with nulls on both sides has no neighbour to draw a line to: mark it alone.
        if (segment.length === 1 && only !== undefined) return h(Circle, { key: segmentIndex, cx: only.x, cy: only.y, r: 1.5, fill: colour });
        return h(Path, { key: segmentIndex, d: pathOf(segment), stroke: colour, strokeWidth: 1.25, fill: 'none', strokeLinejoin: 'round' });
      }),
    );
  });

  const legend =
    chart.series.length > 1
      ? h(
          View,
          { style: { flexDirection: 'row', flexWrap: 'wrap', marginTop: 2, marginBottom: 2 }, ...tagged('L') },
          chart.series.map((series, index) =>
            h(
              View,
              { key: series.name, style: { flexDirection: 'row', alignItems: 'center', marginRight: 10 }, ...tagged('LI') },
              h(View, { style: { width: 8, height: 8, backgroundColor: seriesColour(index), marginRight: 3 } }),
              h(Text, { style: { fontSize: 8 }, ...tagged('LBody') }, series.name),
            ),
          ),
        )
      : null;

  // The drawing is one figure; its description, printed under it, is also its alternative text.
  const figure = tagged({ type: 'Figure', alt: chart.description });
  return h(View, { wrap: false }, h(Svg, { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, ...figure }, [...grid, ...axes, ...timeLabels, ...marks]), legend);
}
