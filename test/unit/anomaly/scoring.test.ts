import { benchSeries } from '../../../functions/domain/anomaly/bench-series';
import { robustZScore } from '../../../functions/domain/anomaly/robust-z-score';
import { observeAll, scoreDetections } from '../../../functions/domain/anomaly/scoring';
import { seasonal } from '../../../functions/domain/anomaly/seasonal';
import type { AnomalyLabel } from '../../../functions/domain/anomaly/synthetic-series';

function flagsAt(length: number, indices: readonly number[]): boolean[] {
  const flags = new Array<boolean>(length).fill(false);
  for (const i of indices) flags[i] = true;
  return flags;
}

describe('scoreDetections', () => {
  it('counts runs of flags as events, each anomaly alarmed on once, tolerates a level shift settling, and misses a flag later than two intervals', () => {
    const labels: AnomalyLabel[] = [
      { kind: 'spike', start: 10, end: 11 },
      { kind: 'dip', start: 20, end: 22 },
      { kind: 'level-shift', start: 40, end: 41 },
      { kind: 'spike', start: 70, end: 71 },
      { kind: 'spike', start: 90, end: 91 },
    ];
    // 5: a false alarm. 11-12: one event, the spike at 10 found one interval late. 21: the dip.
    // 40-45 and 50: the level shift and a flag while it settles (15 intervals here): two events,
    // one true alarm.
    // 75 and 93: too late for the spikes at 70 and 90, so both missed and both false alarms.
    const flags = flagsAt(100, [5, 11, 12, 21, 40, 41, 42, 43, 44, 45, 50, 75, 93]);

    const score = scoreDetections(flags, labels, { maxDelay: 2, levelShiftSettling: 15 });

    expect(score).toMatchObject({ planted: 5, detected: 3, events: 7, trueAlarms: 3, delays: [1, 1, 0], falseAlarms: [5, 75, 93] });
    expect(score.precision).toBeCloseTo(3 / 6);
    expect(score.recall).toBeCloseTo(3 / 5);
    expect(score.missed.map((label) => label.start)).toEqual([70, 90]);
  });

  it('answers precision and recall of 1 when nothing was planted and nothing flagged', () => {
    expect(scoreDetections(flagsAt(10, []), [])).toMatchObject({ precision: 1, recall: 1, events: 0 });
  });
});

describe('detectors on the labelled synthetic series (the figures of bench/anomaly-scores.ts)', () => {
  const SEEDS = [1, 2, 3, 4, 5];

  // Each detector on the series it is meant for: the robust z-score without a daily cycle, the seasonal detector with one.
  const cases = SEEDS.flatMap((seed) => [
    { name: 'robust z-score on a series without a daily cycle', seed, run: () => observeAll(robustZScore, robustZScore.initialState(robustZScore.parseConfig({})), benchSeries.flat(seed).points), labels: () => benchSeries.flat(seed).labels },
    {
      name: 'seasonal detector on a series with a daily cycle',
      seed,
      run: () => observeAll(seasonal, seasonal.initialState(seasonal.parseConfig({ intervalMs: 60_000, seasonLength: 1440 })), benchSeries.daily(seed).points),
      labels: () => benchSeries.daily(seed).labels,
    },
  ]);

  it.each(cases)('$name, seed $seed: precision and recall at least 0.90, found within 2 intervals', ({ run, labels }) => {
    const { verdicts } = run();

    const score = scoreDetections(
      verdicts.map((verdict) => verdict?.anomalous ?? false),
      labels(),
    );

    expect(score.precision).toBeGreaterThanOrEqual(0.9);
    expect(score.recall).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...score.delays)).toBeLessThanOrEqual(2);
  });
});
