/**
 * Precision, recall and detection delay of the anomaly detectors on labelled synthetic series
 * (functions/domain/anomaly): the robust z-score on a series without a daily cycle, the seasonal
 * detector on one with it, each with its default config and over a few seeds. How events are
 * counted is in scoring.ts. `npx tsx bench/anomaly-scores.ts` (SEEDS=1,2,3).
 */
import { robustZScore } from '../functions/domain/anomaly/robust-z-score';
import { DEFAULT_SCORING, observeAll, scoreDetections, type DetectionScore } from '../functions/domain/anomaly/scoring';
import { seasonal } from '../functions/domain/anomaly/seasonal';
import { benchSeries } from '../functions/domain/anomaly/bench-series';

const SEEDS = (process.env.SEEDS ?? '1,2,3,4,5').split(',').map(Number);

function line(name: string, seed: number, score: DetectionScore): string {
  const mean = score.delays.length ? score.delays.reduce((a, b) => a + b, 0) / score.delays.length : NaN;
  return [
    name.padEnd(15),
    `seed ${seed}`,
    `precision ${score.precision.toFixed(3)} (${score.trueAlarms} true alarms, ${score.falseAlarms.length} false, ${score.events} runs of flags)`,
    `recall ${score.recall.toFixed(3)} (${score.detected}/${score.planted})`,
    `delay mean ${mean.toFixed(2)} max ${Math.max(...score.delays)}`,
    score.falseAlarms.length ? `false alarms at ${score.falseAlarms.join(',')}` : '',
    score.missed.length ? `missed ${score.missed.map((m) => `${m.kind}@${m.start}`).join(',')}` : '',
  ].join('  ');
}

for (const seed of SEEDS) {
  const flat = benchSeries.flat(seed);
  const z = observeAll(robustZScore, robustZScore.initialState(robustZScore.parseConfig({})), flat.points);
  console.log(line('robust z-score', seed, scoreDetections(z.verdicts.map((v) => v?.anomalous ?? false), flat.labels, DEFAULT_SCORING)));
  const daily = benchSeries.daily(seed);
  const s = observeAll(seasonal, seasonal.initialState(seasonal.parseConfig({ intervalMs: 60_000, seasonLength: 1440 })), daily.points);
  console.log(line('seasonal', seed, scoreDetections(s.verdicts.map((v) => v?.anomalous ?? false), daily.labels, DEFAULT_SCORING)));
}
