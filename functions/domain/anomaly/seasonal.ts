import { z } from 'zod';
import { checkPoint, median, medianAbsoluteDeviation, robustScale, verdictOf, type Detector, type Direction, type Observation, type SeriesPoint } from './detector';

/**
 * Seasonal detector: additive Holt-Winters (level, trend and one seasonal term per position in
 * the season) forecasts each point, and the forecast's residual is scored against the median and
 * MAD of recent residuals. A busy evening is normal for its time of day and passes; a spike at
 * 4 a.m. does not. The season is `seasonLength` intervals of `intervalMs`: 1440 minutes or 24
 * hours for a daily cycle, 168 hours for a weekly one (a weekly season holds the daily cycle
 * too, at the price of two weeks of warm-up). A point's position in the season comes from its
 * timestamp, so a gap in the series (a quiet minute nobody wrote) keeps the phase.
 *
 * Anomalies must not teach the model: a flagged point updates it as if it had been the forecast,
 * so a spike leaves level and season as they were (its residual, clamped to the threshold, still
 * joins the spread's estimate). A level shift would then be flagged
 * for ever, so `levelShiftAfter` consecutive flags on the same side are taken as a new level: the
 * level moves by their median residual and the series is normal again from there.
 */

export const seasonalConfig = z.strictObject({
  intervalMs: z.number().int().positive(),
  seasonLength: z.number().int().min(2).max(20_160),
  /** Full seasons watched before the first verdict; they give the initial level, trend and season. */
  initialSeasons: z.number().int().min(2).max(8).default(2),
  alpha: z.number().gt(0).lt(1).default(0.1),
  beta: z.number().min(0).lt(1).default(0.001),
  gamma: z.number().gt(0).lt(1).default(0.2),
  /** Residuals kept to estimate the forecast's spread. */
  residualWindow: z.number().int().min(10).max(10_000).default(240),
  // Higher than the robust z-score's: the forecast's residuals carry the season's estimation noise
  // too. Over ten seeded weeks of minutes (bench/anomaly-scores.ts) precision was 0.86-1.00 at 4,
  // 0.96-1.00 at 4.5 and 1.00 at 5; recall 0.96-1.00, 0.96-1.00 and 0.92-1.00.
  threshold: z.number().positive().default(4.5),
  levelShiftAfter: z.number().int().min(2).default(6),
  minScale: z.number().nonnegative().default(1e-6),
  minRelativeScale: z.number().nonnegative().max(1).default(0.01),
});
export type SeasonalConfig = z.output<typeof seasonalConfig>;

interface WarmingUp {
  readonly phase: 'warm-up';
  readonly firstStep: number | null;
  readonly points: readonly SeriesPoint[];
}

interface Running {
  readonly phase: 'running';
  readonly level: number;
  readonly trend: number;
  /** One additive term per position in the season; position = step modulo seasonLength. */
  readonly seasonal: readonly number[];
  readonly lastStep: number;
  /** Recent forecast residuals, clamped to the threshold so an anomaly cannot widen the spread. */
  readonly residuals: readonly number[];
  /** The residuals of the current run of consecutive flags on one side, candidates for a new level. */
  readonly run: { readonly direction: Direction; readonly residuals: readonly number[] };
}

export type SeasonalState = { readonly kind: 'seasonal'; readonly config: SeasonalConfig; readonly lastT: number | null } & (WarmingUp | Running);

export const seasonal: Detector<SeasonalConfig, SeasonalState> = {
  parseConfig(input: unknown): SeasonalConfig {
    return seasonalConfig.parse(input);
  },

  initialState(config: SeasonalConfig): SeasonalState {
    return { kind: 'seasonal', config, lastT: null, phase: 'warm-up', firstStep: null, points: [] };
  },

  observe(state: SeasonalState, point: SeriesPoint): Observation<SeasonalState> {
    checkPoint(point, state.lastT);
    const { config } = state;
    const step = Math.floor(point.t / config.intervalMs);
    if (state.phase === 'warm-up') {
      const firstStep = state.firstStep ?? step;
      if (step - firstStep < config.initialSeasons * config.seasonLength) {
        return { state: { ...state, lastT: point.t, firstStep, points: [...state.points, point] }, verdict: undefined };
      }
      const model = initialModel(config, firstStep, state.points);
      // An outage took all but one season of the warm-up: one season tells nothing about how far
      // a point strays from its position's term, so the warm-up starts again from here.
      if (model === undefined) return { state: { ...state, lastT: point.t, firstStep: step, points: [point] }, verdict: undefined };
      return judge({ kind: 'seasonal', config, lastT: state.lastT, ...model }, point, step);
    }
    return judge(state, point, step);
  },
};

function judge(state: SeasonalState & Running, point: SeriesPoint, step: number): Observation<SeasonalState> {
  const { config } = state;
  const steps = step - state.lastStep;
  const position = positionOf(step, config.seasonLength);
  let previousLevel = state.level;
  const projectedLevel = previousLevel + steps * state.trend;
  const expected = projectedLevel + state.seasonal[position]!;
  const center = median(state.residuals);
  const scale = robustScale(medianAbsoluteDeviation(state.residuals, center), expected, config);
  const verdict = verdictOf(point.value, expected, scale, config.threshold);
  const residual = point.value - expected;
  const limit = config.threshold * scale;

  let level = projectedLevel;
  let run = { direction: 'none' as Direction, residuals: [] as readonly number[] };
  let learnFrom = point.value;
  if (verdict.anomalous) {
    const continued = state.run.direction === verdict.direction ? state.run.residuals : [];
    run = { direction: verdict.direction, residuals: [...continued, residual] };
    if (run.residuals.length >= config.levelShiftAfter) {
      // Too long for a spike or a dip: the series has moved. Learn the new level, forget the run.
      const shift = median(run.residuals);
      level = projectedLevel + shift;
      // Moved as a whole, so the jump does not leak into the trend.
      previousLevel += shift;
      run = { direction: 'none', residuals: [] };
    } else {
      // The model learns the point as if it were what it expected. Clamping it to the threshold
      // instead still moved the same hour's forecast a day later by a noise σ after one spike.
      learnFrom = expected;
    }
  }

  const newLevel = config.alpha * (learnFrom - state.seasonal[position]!) + (1 - config.alpha) * level;
  const trend = (config.beta * (newLevel - previousLevel)) / steps + (1 - config.beta) * state.trend;
  const seasonalTerms = [...state.seasonal];
  seasonalTerms[position] = config.gamma * (learnFrom - newLevel) + (1 - config.gamma) * state.seasonal[position]!;
  const residuals = [...state.residuals, Math.max(-limit, Math.min(limit, residual))].slice(-config.residualWindow);

  return {
    state: { ...state, lastT: point.t, level: newLevel, trend, seasonal: seasonalTerms, lastStep: step, residuals, run },
    verdict,
  };
}

/**
 * Classic initialisation from whole seasons: the trend from the change of the seasons' means,
 * each position's term from its mean deviation from its season's (trend-corrected) mean, and the
 * level projected to the last point watched.
 */
function initialModel(config: SeasonalConfig, firstStep: number, points: readonly SeriesPoint[]): Running | undefined {
  const { seasonLength, initialSeasons, intervalMs } = config;
  const seasonOf = (p: SeriesPoint) => Math.floor((Math.floor(p.t / intervalMs) - firstStep) / seasonLength);
  // A season the series skipped altogether (an outage) has no mean; the trend is taken between
  // the first and the last seasons that have one.
  const means = Array.from({ length: initialSeasons }, (_, season) => mean(points.filter((p) => seasonOf(p) === season).map((p) => p.value)));
  const seen = means.flatMap((m, season) => (m === undefined ? [] : [{ season, mean: m }]));
  const first = seen[0];
  const last = seen[seen.length - 1];
  if (first === undefined || last === undefined || seen.length < 2) return undefined;
  const trend = (last.mean - first.mean) / ((last.season - first.season) * seasonLength);
  // The value a season's mean stands for sits in the middle of that season.
  const baseline = (p: SeriesPoint) => {
    const offset = Math.floor(p.t / intervalMs) - firstStep;
    return means[seasonOf(p)]! + trend * ((offset % seasonLength) - (seasonLength - 1) / 2);
  };
  const sums = new Array<number>(seasonLength).fill(0);
  const counts = new Array<number>(seasonLength).fill(0);
  for (const p of points) {
    const position = positionOf(Math.floor(p.t / intervalMs), seasonLength);
    sums[position]! += p.value - baseline(p);
    counts[position]!++;
  }
  const terms = sums.map((sum, position) => (counts[position] ? sum / counts[position] : 0));
  const lastPoint = points[points.length - 1]!;
  const lastStep = Math.floor(lastPoint.t / intervalMs);
  const level = baseline(lastPoint);
  // Residuals within the seasons the terms were fitted on are smaller than a forecast's: with n
  // seasons their variance is σ²(1 - 1/n) against σ²(1 + 1/n) ahead, hence the factor.
  const inflation = Math.sqrt((seen.length + 1) / (seen.length - 1));
  const residuals = points.slice(-config.residualWindow).map((p) => {
    const position = positionOf(Math.floor(p.t / intervalMs), seasonLength);
    return inflation * (p.value - baseline(p) - terms[position]!);
  });
  return { phase: 'running', level, trend, seasonal: terms, lastStep, residuals, run: { direction: 'none', residuals: [] } };
}

function positionOf(step: number, seasonLength: number): number {
  return ((step % seasonLength) + seasonLength) % seasonLength;
}

function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return values.reduce((a, b) => a + b, 0) / values.length;
}
