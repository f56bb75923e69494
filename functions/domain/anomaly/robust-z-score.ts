import { z } from 'zod';
import { checkPoint, median, medianAbsoluteDeviation, robustScale, verdictOf, type Detector, type Observation, type SeriesPoint } from './detector';

/**
 * Robust z-score: a point is judged against the median and the MAD of the last `windowSize`
 * values. Median and MAD ignore a few outliers in the window, so a spike neither hides the next
 * one nor raises the alarm level; a level shift is flagged from its first point and absorbed once
 * the new level fills half the window, after which the new level is normal. Made for series
 * without a strong daily cycle (ingest errors, latency, mean mood); a seasonal series wants the
 * seasonal detector.
 */

export const robustZScoreConfig = z.strictObject({
  windowSize: z.number().int().min(5).max(10_000).default(120),
  /** Points seen before the first verdict; at least 5 so the MAD means something. */
  warmUp: z.number().int().min(5).optional(),
  // 4 rather than the textbook 3.5: at one point a minute, 3.5 on a 120-point window raised a false
  // alarm every few hours of Gaussian noise (precision 0.83-0.96 over ten seeded three-day series
  // of bench/anomaly-scores.ts, against 0.96-1.00 at 4, recall 1.00 at both).
  threshold: z.number().positive().default(4),
  minScale: z.number().nonnegative().default(1e-6),
  minRelativeScale: z.number().nonnegative().max(1).default(0.01),
}).refine((config) => config.warmUp === undefined || config.warmUp <= config.windowSize, {
  message: 'warmUp cannot exceed windowSize: the window holds all the detector remembers',
  path: ['warmUp'],
});
export type RobustZScoreConfig = z.output<typeof robustZScoreConfig>;

export interface RobustZScoreState {
  readonly kind: 'robust-z-score';
  readonly config: RobustZScoreConfig;
  /** The last `windowSize` values, oldest first. */
  readonly window: readonly number[];
  readonly lastT: number | null;
}

export const robustZScore: Detector<RobustZScoreConfig, RobustZScoreState> = {
  parseConfig(input: unknown): RobustZScoreConfig {
    return robustZScoreConfig.parse(input);
  },

  initialState(config: RobustZScoreConfig): RobustZScoreState {
    return { kind: 'robust-z-score', config, window: [], lastT: null };
  },

  observe(state: RobustZScoreState, point: SeriesPoint): Observation<RobustZScoreState> {
    checkPoint(point, state.lastT);
    const { config } = state;
    const warmUp = config.warmUp ?? config.windowSize;
    const window = [...state.window, point.value].slice(-config.windowSize);
    const next: RobustZScoreState = { ...state, window, lastT: point.t };
    if (state.window.length < warmUp) return { state: next, verdict: undefined };
    // Judged against the window before this point joins it, so a point cannot vouch for itself.
    const center = median(state.window);
    const scale = robustScale(medianAbsoluteDeviation(state.window, center), center, config);
    return { state: next, verdict: verdictOf(point.value, center, scale, config.threshold) };
  },
};
