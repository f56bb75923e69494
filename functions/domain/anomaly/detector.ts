/**
 * What every streaming anomaly detector shares. A detector sees a metric series (events per
 * minute of a type, session completion rate, mean mood, ingest errors or latency) one point at a
 * time, and everything it remembers is in a plain JSON object: a Lambda invocation loads the
 * state (PostgreSQL, Redis), observes the points that arrived since, and stores the state it got
 * back, and the next invocation resumes exactly where this one stopped. The state carries its own
 * config, so a stored state is all `observe` needs.
 */

export interface SeriesPoint {
  /** Epoch milliseconds; strictly increasing along a series. */
  readonly t: number;
  readonly value: number;
}

export type Direction = 'spike' | 'dip' | 'none';

export interface Verdict {
  readonly anomalous: boolean;
  /** Distance from `expected` in robust standard deviations (median absolute deviations scaled to σ). */
  readonly score: number;
  /** What the detector expected at this point. */
  readonly expected: number;
  /** Which side of `expected` the point lies on when anomalous; 'none' otherwise. */
  readonly direction: Direction;
}

export interface Observation<State> {
  readonly state: State;
  /** Undefined while the detector is still warming up: it has not seen enough to judge yet. */
  readonly verdict: Verdict | undefined;
}

export interface Detector<Config, State> {
  /** Parses and completes a config (defaults filled in); throws a ZodError naming a bad field. */
  parseConfig(input: unknown): Config;
  initialState(config: Config): State;
  /** Pure: returns a new state and never changes the one it was given. */
  observe(state: State, point: SeriesPoint): Observation<State>;
}

// A MAD scaled by this estimates the standard deviation of normally distributed values.
export const MAD_TO_SIGMA = 1.4826;

/** The median of a non-empty list; the list is not changed. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('the median of nothing is undefined');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median absolute deviation around `center`. */
export function medianAbsoluteDeviation(values: readonly number[], center: number): number {
  return median(values.map((value) => Math.abs(value - center)));
}

/**
 * The spread a residual is divided by. A series that sits still (no ingest errors for an hour)
 * has a MAD of 0, and every change would score infinity; the floors turn that into a finite,
 * large score: `minScale` in the series' own units, `minRelativeScale` as a share of the level.
 */
export function robustScale(mad: number, level: number, floors: { readonly minScale: number; readonly minRelativeScale: number }): number {
  return Math.max(MAD_TO_SIGMA * mad, floors.minScale, floors.minRelativeScale * Math.abs(level));
}

export function verdictOf(value: number, expected: number, scale: number, threshold: number): Verdict {
  const score = Math.abs(value - expected) / scale;
  const anomalous = score > threshold;
  return { anomalous, score, expected, direction: !anomalous ? 'none' : value > expected ? 'spike' : 'dip' };
}

/** Refuses what would silently corrupt a state: a non-finite value or a point out of order. */
export function checkPoint(point: SeriesPoint, lastT: number | null): void {
  if (!Number.isFinite(point.value) || !Number.isFinite(point.t)) throw new RangeError(`a series point must be finite, got t=${point.t} value=${point.value}`);
  if (lastT !== null && point.t <= lastT) throw new RangeError(`series points must arrive in time order: ${point.t} after ${lastT}`);
}
