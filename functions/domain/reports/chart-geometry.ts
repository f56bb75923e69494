import type { ReportChart } from './document';

/*
 * Where a report chart's marks go, for every renderer that draws one (inline SVG in HTML, the
 * PDF's SVG primitives): buckets on x in the order of time, a y scale on round ticks, lines cut
 * where a point is null (withheld or missing: a gap, never a drop to zero) and bars from zero.
 * Coordinates are in the drawing's units, y growing downwards as in SVG; no text is chosen here,
 * so each renderer formats the ticks and dates its own way.
 */

export interface PlotBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Bar {
  readonly at: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface SeriesGeometry {
  readonly name: string;
  /** Runs of consecutive points with a value; a null point ends one run and the next value starts another. */
  readonly segments: readonly (readonly Point[])[];
  /** The chart's bars for this series (empty for a line chart); a null point has no bar. */
  readonly bars: readonly Bar[];
}

export interface ChartGeometry {
  readonly box: PlotBox;
  /** Every instant any series has a point at, in the order of time, at the middle of its band. */
  readonly buckets: readonly { readonly at: string; readonly x: number }[];
  readonly bandWidth: number;
  readonly yTicks: readonly { readonly value: number; readonly y: number }[];
  /** The y of the value 0 when the scale holds it (the bars' base), else of the scale's lower end. */
  readonly baseline: number;
  readonly series: readonly SeriesGeometry[];
}

/** Share of a band the bars of one bucket fill, leaving a gap between buckets. */
const BAR_FILL = 0.8;

const round = (value: number) => Math.round(value * 100) / 100;

/** Round tick values (1, 2 or 5 times a power of ten apart) covering [min, max] in about `count` steps. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  const [low, high] = min === max ? [min - Math.max(1, Math.abs(min) * 0.1), max + Math.max(1, Math.abs(max) * 0.1)] : [min, max];
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((multiple) => multiple * power >= rough) ?? 10) * power;
  const first = Math.floor(low / step) * step;
  const ticks: number[] = [];
  // Counting steps rather than adding them keeps 0.1 + 0.2 from drifting into the labels.
  for (let index = 0; first + (index - 1) * step < high; index += 1) ticks.push(Number((first + index * step).toPrecision(12)));
  return ticks;
}

/** Whether a chart's buckets need their time of day shown (hourly) or only their date (daily and longer). */
export function bucketTextFormat(instants: readonly string[]): 'date' | 'datetime' {
  const times = instants.map((at) => Date.parse(at));
  // A day across a change of clocks is 23 or 25 hours: anything much shorter is finer than a day.
  return times.some((time, index) => index > 0 && time - (times[index - 1] ?? time) < 20 * 3_600_000) ? 'datetime' : 'date';
}

/** The buckets to label on x: at most `most`, evenly spread, always the first. */
export function labelledBuckets(count: number, most: number): number[] {
  const every = Math.max(1, Math.ceil(count / most));
  return Array.from({ length: count }, (_, index) => index).filter((index) => index % every === 0);
}

/** An SVG path through a run of points. */
export function pathOf(segment: readonly Point[]): string {
  return segment.map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x} ${point.y}`).join(' ');
}

export function chartGeometry(chart: Pick<ReportChart, 'type' | 'series'>, box: PlotBox): ChartGeometry {
  const instants = [...new Set(chart.series.flatMap((series) => series.points.map((point) => point.at)))].sort((a, b) => Date.parse(a) - Date.parse(b));
  const bandWidth = instants.length === 0 ? box.width : box.width / instants.length;
  const centre = new Map(instants.map((at, index) => [at, box.left + bandWidth * (index + 0.5)]));

  const values = chart.series.flatMap((series) => series.points.flatMap((point) => (point.value === null ? [] : [point.value])));
  // Bars are read by their length, so their scale starts at zero; a line's need not.
  const bounds = chart.type === 'bar' || values.length === 0 ? [0, ...values] : values;
  const ticks = niceTicks(Math.min(...bounds), Math.max(...bounds));
  const low = ticks[0] ?? 0;
  const high = ticks[ticks.length - 1] ?? 1;
  const yOf = (value: number) => round(box.top + box.height - ((value - low) / (high - low)) * box.height);
  const baseline = yOf(Math.min(Math.max(0, low), high));

  const barWidth = (bandWidth * BAR_FILL) / Math.max(1, chart.series.length);
  const series = chart.series.map((each, seriesIndex) => {
    const ordered = [...each.points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const segments: Point[][] = [];
    let run: Point[] = [];
    for (const point of ordered) {
      if (point.value === null) {
        if (run.length > 0) segments.push(run);
        run = [];
      } else {
        run.push({ x: round(centre.get(point.at) ?? box.left), y: yOf(point.value) });
      }
    }
    if (run.length > 0) segments.push(run);
    const bars =
      chart.type !== 'bar'
        ? []
        : ordered.flatMap((point) => {
            if (point.value === null) return [];
            const top = yOf(point.value);
            const x = (centre.get(point.at) ?? box.left) - (bandWidth * BAR_FILL) / 2 + seriesIndex * barWidth;
            return [{ at: point.at, x: round(x), y: Math.min(top, baseline), width: round(barWidth), height: round(Math.abs(baseline - top)) }];
          });
    return { name: each.name, segments, bars };
  });

  return {
    box,
    buckets: instants.map((at) => ({ at, x: round(centre.get(at) ?? box.left) })),
    bandWidth: round(bandWidth),
    yTicks: ticks.map((value) => ({ value, y: yOf(value) })),
    baseline,
    series,
  };
}
