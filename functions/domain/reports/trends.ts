import { median } from '../anomaly/detector';
import type { CalendarUnit } from '../rollups/calendar';
import { zoneOffsetMs } from '../rollups/calendar';
import type { Interval } from '../rollups/rollup';
import { twoSidedNormalP, Z_95 } from './normal-tail';

/**
 * Trends of a metric's series for the scheduled reports: is it rising or falling (Mann-Kendall),
 * by how much a day (Theil-Sen, with a 95 % interval), does it follow the week (therapy use
 * differs by weekday), and how the period compares with the one before and with a baseline.
 * Rank-based throughout: a report's series are short, skewed and carry outliers (a campaign
 * day), which a least-squares slope and a t-test would follow.
 *
 * A point whose value is null was suppressed (too few users to release) or is missing. It is
 * left out, never read as zero: a suppressed count is small but not nothing, and a zero would
 * invent a dip.
 */

export interface SeriesPoint {
  /** ISO-8601 instant the value belongs to (the start of its bucket). */
  readonly at: string;
  /** null: suppressed or missing. */
  readonly value: number | null;
}

/** Why a figure could not be computed, with how many usable values it needed and had. */
export interface NotEnoughData {
  readonly status: 'not_enough_data';
  readonly reason: string;
  readonly needed: number;
  readonly have: number;
}

export type Direction = 'increasing' | 'decreasing' | 'no trend';

export interface MannKendall {
  /** Σ sign(later − earlier) over every pair compared. */
  readonly s: number;
  /** Var(S) under no trend, less the ties' share. */
  readonly variance: number;
  /** (S ∓ 1) / √Var(S): continuity-corrected; 0 when S is 0. */
  readonly z: number;
  /** Two-sided, from the normal approximation. */
  readonly pValue: number;
  readonly direction: Direction;
}

export interface SenSlope {
  /** Median of the pairwise slopes, in value units per day. */
  readonly perDay: number;
  /** The 95 % confidence interval of the slope (Sen 1968), per day. */
  readonly lower: number;
  readonly upper: number;
  /** The trend line's value at the first point's instant, to draw it: Conover's (1980)
   * median(y) − slope·median(t), as scipy.stats.theilslopes gives it. */
  readonly valueAtStart: number;
}

export type Seasonality =
  | { readonly status: 'present' | 'absent'; readonly period: 'week'; readonly test: 'kruskal-wallis'; readonly statistic: number; readonly pValue: number }
  | { readonly status: 'not_checked'; readonly reason: string }
  | NotEnoughData;

export interface Trend {
  readonly status: 'ok';
  /** seasonal-mann-kendall compares each weekday only with the same weekday (Hirsch et al. 1982). */
  readonly method: 'mann-kendall' | 'seasonal-mann-kendall';
  /** Values used, and suppressed or missing points left out. */
  readonly points: number;
  readonly suppressed: number;
  readonly mannKendall: MannKendall;
  readonly slope: SenSlope;
  readonly seasonality: Seasonality;
}

export interface TrendOptions {
  /** The series' bucket size: weekly seasonality is looked for in daily series only. */
  readonly interval: Interval | CalendarUnit;
  /** The reader's zone: its calendar days measure daily slopes, its weekdays group the seasonality test. */
  readonly timeZone: string;
}

/**
 * Eight values make 28 pairs. With fewer, one odd value moves the slope and its interval, and
 * the normal approximation of S behind the p-value is coarse (Gilbert 1987, 16.4, reads exact
 * tables up to 10 values; the approximation used here is the one his procedure gives above).
 */
export const MIN_TREND_POINTS = 8;
/**
 * Kruskal-Wallis' chi-square approximation wants "at least 5 measurements" per group, the
 * typical rule scipy.stats.kruskal's documentation gives: five of each weekday, five weeks of days.
 */
export const MIN_VALUES_PER_WEEKDAY = 5;
/** All-pairs methods cost n² time and memory: 3,000 points are 4.5 million slopes (36 MB). */
export const MAX_TREND_POINTS = 3_000;

const ALPHA = 0.05;
const DAY_MS = 86_400_000;

interface Observation {
  readonly epochMs: number;
  /** When, in ms, on the clock the slope is measured by (see slopeClockMs). */
  readonly clockMs: number;
  readonly value: number;
}

interface UsableSeries {
  readonly observations: readonly Observation[];
  readonly suppressed: number;
}

/**
 * The clock slopes are measured by. Daily and coarser buckets start at local midnights, which a
 * 23- or 25-hour day sets 23 or 25 hours apart: counted in local calendar days (the wall clock),
 * a steady rise per day stays steady across the change. Hourly and finer buckets are counted in
 * elapsed time, as the wall clock repeats an hour in autumn.
 */
function slopeClockMs(epochMs: number, options: TrendOptions): number {
  return options.interval === 'minute' || options.interval === 'hour' ? epochMs : epochMs + zoneOffsetMs(epochMs, options.timeZone);
}

/** Days between two observations on the slope's clock (differences first: exact for whole days). */
const daysBetween = (earlier: Observation, later: Observation) => (later.clockMs - earlier.clockMs) / DAY_MS;

/** The non-null values in time order. Bad input is a caller's bug, not data: it throws. */
function usable(points: readonly SeriesPoint[], options: TrendOptions): UsableSeries {
  const observations: Observation[] = [];
  const seen = new Set<number>();
  for (const point of points) {
    const epochMs = Date.parse(point.at);
    if (Number.isNaN(epochMs)) throw new RangeError(`a series point's instant cannot be read: ${point.at}`);
    if (seen.has(epochMs)) throw new RangeError(`two series points share the instant ${point.at}`);
    seen.add(epochMs);
    if (point.value === null) continue;
    if (!Number.isFinite(point.value)) throw new RangeError(`a series point's value is not finite: ${point.value}`);
    observations.push({ epochMs, clockMs: slopeClockMs(epochMs, options), value: point.value });
  }
  if (observations.length > MAX_TREND_POINTS) throw new RangeError(`a trend takes at most ${MAX_TREND_POINTS} points (${observations.length} given): use a coarser interval`);
  observations.sort((a, b) => a.epochMs - b.epochMs);
  return { observations, suppressed: points.length - observations.length };
}

function tooFewForTrend(have: number): NotEnoughData {
  return { status: 'not_enough_data', reason: `a trend needs at least ${MIN_TREND_POINTS} values that are not suppressed or missing`, needed: MIN_TREND_POINTS, have };
}

interface PairSummary {
  readonly s: number;
  readonly variance: number;
  readonly slopes: number[];
}

/** S, its variance with Kendall's tie correction, and every pairwise slope (per day) of one group. */
function pairsOf(group: readonly Observation[]): PairSummary {
  let s = 0;
  const slopes: number[] = [];
  for (let i = 0; i < group.length; i++) {
    const earlier = group[i]!;
    for (let j = i + 1; j < group.length; j++) {
      const later = group[j]!;
      s += Math.sign(later.value - earlier.value);
      slopes.push((later.value - earlier.value) / daysBetween(earlier, later));
    }
  }
  const tieSizes = new Map<number, number>();
  for (const { value } of group) tieSizes.set(value, (tieSizes.get(value) ?? 0) + 1);
  let tieShare = 0;
  for (const t of tieSizes.values()) tieShare += t * (t - 1) * (2 * t + 5);
  const n = group.length;
  return { s, variance: (n * (n - 1) * (2 * n + 5) - tieShare) / 18, slopes };
}

/** Mann-Kendall and Sen's slope over groups whose S and variances add (one group: the plain test). */
function trendOfGroups(groups: readonly (readonly Observation[])[], first: Observation): { mannKendall: MannKendall; slope: SenSlope } {
  let s = 0;
  let variance = 0;
  const slopes: number[] = [];
  for (const group of groups) {
    const pairs = pairsOf(group);
    s += pairs.s;
    variance += pairs.variance;
    for (const slope of pairs.slopes) slopes.push(slope);
  }
  // Var(S) is 0 only when every value ties, and then S is 0 too: no evidence of anything.
  const z = s === 0 || variance === 0 ? 0 : (s - Math.sign(s)) / Math.sqrt(variance);
  const pValue = twoSidedNormalP(z);
  const direction: Direction = pValue < ALPHA ? (s > 0 ? 'increasing' : 'decreasing') : 'no trend';

  const sorted = Float64Array.from(slopes).sort();
  const n = sorted.length;
  const perDay = n % 2 === 1 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2;
  // Sen (1968) eq. 2.6, as Gilbert (1987) 16.5.1 sets it out: the ranks (N ∓ C)/2 around the
  // median, C = z(0.975)·√Var(S), rounded as scipy.stats.theilslopes and R's trend::sens.slope do.
  const spread = Z_95 * Math.sqrt(variance);
  const rankAt = (rank: number) => sorted[Math.min(n, Math.max(1, rank)) - 1]!;
  const lower = rankAt(Math.round((n - spread) / 2));
  const upper = rankAt(Math.round((n + spread) / 2) + 1);
  const all = groups.flat();
  const valueAtStart = median(all.map(({ value }) => value)) - perDay * median(all.map((observation) => daysBetween(first, observation)));
  return { mannKendall: { s, variance, z, pValue, direction }, slope: { perDay, lower, upper, valueAtStart } };
}

/**
 * The Mann-Kendall test: is the series monotonically rising or falling, at the 5 % level? For
 * the report's sentence "sessions per user rose (p = 0.01)" without assuming a straight line or
 * normal noise. It assumes independent values: a series whose days follow each other closely
 * (serial correlation) gets p-values that are too small, and no correction (Hamed and Rao 1998)
 * is made here.
 */
export function mannKendall(points: readonly SeriesPoint[], options: TrendOptions): MannKendall | NotEnoughData {
  const { observations } = usable(points, options);
  if (observations.length < MIN_TREND_POINTS) return tooFewForTrend(observations.length);
  return trendOfGroups([observations], observations[0]!).mannKendall;
}

/**
 * The Theil-Sen slope per day, with its 95 % interval: how fast the metric moves, robust to up
 * to 29 % of the points being wild.
 */
export function theilSen(points: readonly SeriesPoint[], options: TrendOptions): SenSlope | NotEnoughData {
  const { observations } = usable(points, options);
  if (observations.length < MIN_TREND_POINTS) return tooFewForTrend(observations.length);
  return trendOfGroups([observations], observations[0]!).slope;
}

/** The observations by local weekday, Sunday first. */
function byLocalWeekday(observations: readonly Observation[], timeZone: string): Observation[][] {
  const groups: Observation[][] = Array.from({ length: 7 }, () => []);
  for (const observation of observations) groups[new Date(observation.epochMs + zoneOffsetMs(observation.epochMs, timeZone)).getUTCDay()]!.push(observation);
  return groups;
}

/**
 * Kruskal-Wallis across the seven local weekdays, on the values less the Theil-Sen trend (a trend
 * alone would set the weekdays of a week apart). Chosen over the autocorrelation at lag 7: that
 * needs its own threshold, a trend raises it at every lag, and it has no tie handling; this test
 * is rank-based like the rest, has a tie correction and a p-value (with 6 degrees of freedom
 * the chi-square tail has a closed form, so no library is needed). Present at p < 0.05: a false
 * alarm only makes the trend compare like weekdays with like, which costs little power.
 */
function weeklyOf(observations: readonly Observation[], timeZone: string, slopePerDay: number): Seasonality {
  const byWeekday = byLocalWeekday(observations, timeZone);
  const fewest = Math.min(...byWeekday.map((group) => group.length));
  if (fewest < MIN_VALUES_PER_WEEKDAY) {
    return { status: 'not_enough_data', reason: `weekly seasonality needs at least ${MIN_VALUES_PER_WEEKDAY} values on each weekday (have is the fewest)`, needed: MIN_VALUES_PER_WEEKDAY, have: fewest };
  }
  const first = observations[0]!;
  const residual = (o: Observation) => o.value - slopePerDay * daysBetween(first, o);
  const ranked = byWeekday.flatMap((group, weekday) => group.map((o) => ({ weekday, residual: residual(o) }))).sort((a, b) => a.residual - b.residual);
  const n = ranked.length;
  const rankSums = new Array<number>(7).fill(0);
  let tieShare = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && ranked[j + 1]!.residual === ranked[i]!.residual) j++;
    const averageRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) rankSums[ranked[k]!.weekday]! += averageRank;
    const t = j - i + 1;
    tieShare += t ** 3 - t;
    i = j + 1;
  }
  const correction = 1 - tieShare / (n ** 3 - n);
  const h = correction === 0 ? 0 : ((12 / (n * (n + 1))) * rankSums.reduce((sum, r, weekday) => sum + r ** 2 / byWeekday[weekday]!.length, 0) - 3 * (n + 1)) / correction;
  // P(χ²₆ > h) = e^{-h/2} (1 + h/2 + h²/8).
  const pValue = Math.min(1, Math.exp(-h / 2) * (1 + h / 2 + (h * h) / 8));
  return { status: pValue < ALPHA ? 'present' : 'absent', period: 'week', test: 'kruskal-wallis', statistic: h, pValue };
}

/**
 * Weekly seasonality of a daily series in the reader's time zone: do some weekdays run higher?
 * Reports say so beside the trend, and trendOf then tests within weekdays.
 */
export function weeklySeasonality(points: readonly SeriesPoint[], timeZone: string): Seasonality {
  const { observations } = usable(points, { interval: 'day', timeZone });
  if (observations.length < MIN_TREND_POINTS) return tooFewForTrend(observations.length);
  return weeklyOf(observations, timeZone, trendOfGroups([observations], observations[0]!).slope.perDay);
}

/**
 * The trend a report shows for a metric: direction and significance, slope and its interval,
 * and weekly seasonality. When a daily series follows the week, the seasonal Mann-Kendall test
 * and the seasonal Kendall slope (Hirsch, Slack and Smith 1982) replace the plain ones: they
 * compare Mondays with Mondays, so a month that starts on a weekend shows no false trend, and
 * the weekday swing does not drown the trend in noise. Other intervals report seasonality as
 * not checked: a yearly cycle needs years of data, a daily one in hourly data is not asked for.
 */
export function trendOf(points: readonly SeriesPoint[], options: TrendOptions): Trend | NotEnoughData {
  const { observations, suppressed } = usable(points, options);
  if (observations.length < MIN_TREND_POINTS) return tooFewForTrend(observations.length);
  const first = observations[0]!;
  const plain = trendOfGroups([observations], first);
  const seasonality: Seasonality =
    options.interval === 'day' ? weeklyOf(observations, options.timeZone, plain.slope.perDay) : { status: 'not_checked', reason: 'weekly seasonality is looked for in daily series only' };
  if (seasonality.status !== 'present') return { status: 'ok', method: 'mann-kendall', points: observations.length, suppressed, ...plain, seasonality };
  return { status: 'ok', method: 'seasonal-mann-kendall', points: observations.length, suppressed, ...trendOfGroups(byLocalWeekday(observations, options.timeZone), first), seasonality };
}

/**
 * How a period's buckets make one figure. `mean` is the per-bucket rate (the mean of daily counts
 * is a count per day): compare periods of unequal length (a 28-day and a 31-day month, a
 * baseline of four weeks against one) by it, never by `sum`.
 */
export type PeriodAggregate = 'sum' | 'mean';

export type PeriodFigure =
  | { readonly value: number }
  /** empty: no bucket in the period; suppressed: a bucket of it was suppressed or missing. */
  | { readonly value: null; readonly reason: 'empty' | 'suppressed' };

/**
 * One figure for a period's buckets, or none with the reason. A single suppressed bucket voids it:
 * the suppressed ones hold the small counts, so a sum or mean of the rest is not the period's.
 * (The engine gets a figure for a whole period by asking the rollups for one bucket of that size,
 * which a small bucket's suppression does not touch.)
 */
export function periodFigure(points: readonly SeriesPoint[], aggregate: PeriodAggregate): PeriodFigure {
  if (points.length === 0) return { value: null, reason: 'empty' };
  let sum = 0;
  for (const { value } of points) {
    if (value === null) return { value: null, reason: 'suppressed' };
    if (!Number.isFinite(value)) throw new RangeError(`a series point's value is not finite: ${value}`);
    sum += value;
  }
  return { value: aggregate === 'sum' ? sum : sum / points.length };
}

export type ChangeGap = 'current_empty' | 'current_suppressed' | 'reference_empty' | 'reference_suppressed' | 'reference_zero';

export interface Change {
  readonly current: number | null;
  readonly reference: number | null;
  /** current − reference. */
  readonly absolute: number | null;
  /** (current − reference) / |reference|: +0.25 is a quarter up, whatever the reference's sign. */
  readonly relative: number | null;
  /** Why a change is null; reference_zero leaves the absolute change and voids only the relative. */
  readonly gap?: ChangeGap;
}

/**
 * The change from a reference period (the one before, or a stored baseline) to the current one,
 * absolute and relative, with the reason when it cannot be given. The current side's gap is
 * named first: it is the one a reader asks about.
 */
export function changeBetween(current: PeriodFigure, reference: PeriodFigure): Change {
  const base = { current: current.value, reference: reference.value };
  if (current.value === null) return { ...base, absolute: null, relative: null, gap: current.reason === 'empty' ? 'current_empty' : 'current_suppressed' };
  if (reference.value === null) return { ...base, absolute: null, relative: null, gap: reference.reason === 'empty' ? 'reference_empty' : 'reference_suppressed' };
  const absolute = current.value - reference.value;
  if (reference.value === 0) return { ...base, absolute, relative: null, gap: 'reference_zero' };
  return { ...base, absolute, relative: absolute / Math.abs(reference.value) };
}

