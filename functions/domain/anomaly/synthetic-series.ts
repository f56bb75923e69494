import { mulberry32, type Random } from '../demo/synthetic-traffic';
import type { SeriesPoint } from './detector';

/**
 * A labelled synthetic metric series to score detectors on: a baseline with an optional daily
 * cycle and Gaussian noise, and planted spikes, dips and level shifts, each labelled with where
 * it starts. Deterministic: the same options give the same series, so a test can assert on it.
 */

export type AnomalyKind = 'spike' | 'dip' | 'level-shift';

export interface AnomalyLabel {
  readonly kind: AnomalyKind;
  /** Index of the first anomalous point. */
  readonly start: number;
  /** Index after the last anomalous point; a level shift lasts one point (it then is the new normal). */
  readonly end: number;
}

export interface SyntheticSeriesOptions {
  readonly seed: number;
  readonly length: number;
  readonly startMs: number;
  readonly intervalMs: number;
  readonly baseline: number;
  /** Standard deviation of the Gaussian noise. */
  readonly noise: number;
  /** A daily cycle: a sine of this amplitude over `seasonLength` points, with a smaller second harmonic (a morning and an evening peak). */
  readonly season?: { readonly seasonLength: number; readonly amplitude: number };
  readonly anomalies: { readonly spikes: number; readonly dips: number; readonly levelShifts: number };
  /** How far an anomaly departs from normal, in noise standard deviations, drawn uniformly. */
  readonly magnitude?: readonly [min: number, max: number];
  /** Points left clean at the start, for the detector's warm-up. */
  readonly quietPrefix: number;
}

export interface SyntheticSeries {
  readonly points: readonly SeriesPoint[];
  readonly labels: readonly AnomalyLabel[];
}

const MAX_SPIKE_POINTS = 3;

export function syntheticSeries(options: SyntheticSeriesOptions): SyntheticSeries {
  const random = mulberry32(options.seed);
  const [minMagnitude, maxMagnitude] = options.magnitude ?? [6, 10];
  const kinds: AnomalyKind[] = [
    ...Array<AnomalyKind>(options.anomalies.spikes).fill('spike'),
    ...Array<AnomalyKind>(options.anomalies.dips).fill('dip'),
    ...Array<AnomalyKind>(options.anomalies.levelShifts).fill('level-shift'),
  ];
  shuffle(kinds, random);
  // One anomaly per equal slot after the quiet prefix, somewhere in the slot's middle half, so
  // two never overlap and a level shift has settled before the next anomaly.
  const slot = Math.floor((options.length - options.quietPrefix) / Math.max(1, kinds.length));
  if (kinds.length > 0 && slot < 8 * MAX_SPIKE_POINTS) throw new RangeError(`${kinds.length} anomalies do not fit in ${options.length - options.quietPrefix} points`);
  const labels = kinds.map((kind, i): AnomalyLabel => {
    const start = options.quietPrefix + i * slot + Math.floor(slot / 4 + random() * (slot / 2));
    const points = kind === 'level-shift' ? 1 : 1 + Math.floor(random() * MAX_SPIKE_POINTS);
    return { kind, start, end: start + points };
  });
  const magnitudes = labels.map(() => (minMagnitude + random() * (maxMagnitude - minMagnitude)) * options.noise);
  const shiftSigns = labels.map(() => (random() < 0.5 ? -1 : 1));

  const points: SeriesPoint[] = [];
  let shift = 0;
  for (let i = 0; i < options.length; i++) {
    let value = options.baseline + shift + options.noise * gaussian(random);
    if (options.season) {
      const phase = (2 * Math.PI * (i % options.season.seasonLength)) / options.season.seasonLength;
      value += options.season.amplitude * (Math.sin(phase) + 0.4 * Math.sin(2 * phase));
    }
    labels.forEach((label, n) => {
      const magnitude = magnitudes[n]!;
      if (label.kind === 'level-shift' && i === label.start) {
        shift += shiftSigns[n]! * magnitude;
        value += shiftSigns[n]! * magnitude;
      } else if (i >= label.start && i < label.end) {
        value += label.kind === 'spike' ? magnitude : label.kind === 'dip' ? -magnitude : 0;
      }
    });
    points.push({ t: options.startMs + i * options.intervalMs, value });
  }
  return { points, labels };
}

/** Box-Muller: a standard normal from two uniforms. */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function shuffle<T>(items: T[], random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
