import { syntheticSeries, type SyntheticSeries } from './synthetic-series';

/**
 * The two labelled series the detectors are scored on, shared by the scoring test and
 * bench/anomaly-scores.ts so the README's figures are the ones the test asserts on.
 */

const START_MS = Date.UTC(2026, 0, 5);
const MINUTE = 60_000;

export const benchSeries = {
  /** Three days of a minute series without a daily cycle (ingest latency, say): 24 anomalies after the robust z-score's warm-up. */
  flat(seed: number): SyntheticSeries {
    return syntheticSeries({ seed, length: 3 * 1440, startMs: START_MS, intervalMs: MINUTE, baseline: 100, noise: 5, anomalies: { spikes: 8, dips: 8, levelShifts: 8 }, quietPrefix: 120 });
  },
  /** Seven days of events per minute with a daily cycle; the first two days are the seasonal warm-up. */
  daily(seed: number): SyntheticSeries {
    return syntheticSeries({
      seed,
      length: 7 * 1440,
      startMs: START_MS,
      intervalMs: MINUTE,
      baseline: 200,
      noise: 5,
      season: { seasonLength: 1440, amplitude: 60 },
      anomalies: { spikes: 10, dips: 10, levelShifts: 5 },
      quietPrefix: 2 * 1440,
    });
  },
};
