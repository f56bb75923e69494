/**
 * Precision, recall and detection delay of the anomaly detectors on labelled synthetic series
 * (functions/domain/anomaly): the robust z-score on three days of minutes without a daily cycle,
 * the seasonal detector on a week of minutes with one (two days of it warm-up), each with its
 * default config, one line per seed and a summary per detector. How events, true and false
 * alarms are counted is in scoring.ts; test/unit/anomaly/scoring.test.ts asserts on seeds 1-5.
 * `npx tsx bench/anomaly-scores.ts` (SEEDS=1,2,3,4,5).
 */
import { benchSeries } from '../functions/domain/anomaly/bench-series';
import type { Detector } from '../functions/domain/anomaly/detector';
import { robustZScore } from '../functions/domain/anomaly/robust-z-score';
import { observeAll, scoreDetections, type DetectionScore } from '../functions/domain/anomaly/scoring';
import { seasonal } from '../functions/domain/anomaly/seasonal';
import type { SyntheticSeries } from '../functions/domain/anomaly/synthetic-series';

const SEEDS = (process.env.SEEDS ?? '1,2,3,4,5').split(',').map(Number);

interface Run {
  readonly score: DetectionScore;
  readonly microsPerPoint: number;
}

function run<Config, State>(detector: Detector<Config, State>, config: unknown, series: SyntheticSeries): Run {
  const started = performance.now();
  const { verdicts } = observeAll(detector, detector.initialState(detector.parseConfig(config)), series.points);
  const microsPerPoint = ((performance.now() - started) * 1000) / series.points.length;
  const score = scoreDetections(
    verdicts.map((verdict) => verdict?.anomalous ?? false),
    series.labels,
  );
  return { score, microsPerPoint };
}

const meanOf = (values: readonly number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

function line(name: string, seed: number, { score, microsPerPoint }: Run): string {
  return [
    `${name.padEnd(15)} seed ${seed}`,
    `precision ${score.precision.toFixed(3)} (${score.trueAlarms} true alarms, ${score.falseAlarms.length} false, ${score.events} runs of flags)`,
    `recall ${score.recall.toFixed(3)} (${score.detected}/${score.planted})`,
    `delay mean ${meanOf(score.delays).toFixed(2)} max ${Math.max(...score.delays)}`,
    `${microsPerPoint.toFixed(1)} µs a point`,
    score.falseAlarms.length ? `false alarms at ${score.falseAlarms.join(',')}` : '',
    score.missed.length ? `missed ${score.missed.map((label) => `${label.kind}@${label.start}`).join(',')}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

function summary(name: string, runs: readonly Run[]): string {
  const precisions = runs.map((r) => r.score.precision);
  const recalls = runs.map((r) => r.score.recall);
  const delays = runs.flatMap((r) => r.score.delays);
  return (
    `${name.padEnd(15)} over ${runs.length} seeds: precision mean ${meanOf(precisions).toFixed(3)} min ${Math.min(...precisions).toFixed(3)}, ` +
    `recall mean ${meanOf(recalls).toFixed(3)} min ${Math.min(...recalls).toFixed(3)}, delay mean ${meanOf(delays).toFixed(2)} max ${Math.max(...delays)} intervals`
  );
}

const zRuns: Run[] = [];
const seasonalRuns: Run[] = [];
for (const seed of SEEDS) {
  const z = run(robustZScore, {}, benchSeries.flat(seed));
  zRuns.push(z);
  console.log(line('robust z-score', seed, z));
  const s = run(seasonal, { intervalMs: 60_000, seasonLength: 1440 }, benchSeries.daily(seed));
  seasonalRuns.push(s);
  console.log(line('seasonal', seed, s));
}
console.log(summary('robust z-score', zRuns));
console.log(summary('seasonal', seasonalRuns));
