import LogisticRegression, { type LogisticRegressionJson } from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import type { FirstWeeksFeatures } from './outcome-features';
import { OUTCOMES, type OutcomeName } from './outcome-labels';

/**
 * The first-two-weeks features the model reads, each a number or null (imputed with the training
 * mean). Sessions started and days active are left out: nearly the same as sessions completed,
 * they slow the library's gradient ascent (ill-conditioned) and add nothing.
 */
const MODEL_FEATURES = {
  baselineScore: (features, outcome) => features.baseline[OUTCOMES[outcome].instrument]?.score ?? null,
  completedSessions: (features) => features.completedSessions,
  secondWeekCompleted: (features) => features.secondWeekCompleted,
  completionRate: (features) => features.completionRate,
  sessionDurationSec: (features) => features.sessionDurationSec,
  moodValence: (features) => features.moodValence,
  choiceResponseMs: (features) => features.choiceResponseMs,
  interventionCompletionRate: (features) => features.interventionCompletionRate,
  crisisSignals: (features) => features.crisisSignals,
} as const satisfies Record<string, (features: FirstWeeksFeatures, outcome: OutcomeName) => number | null>;
type FeatureName = keyof typeof MODEL_FEATURES;
const FEATURE_NAMES = Object.keys(MODEL_FEATURES) as FeatureName[];

/** One user with a known outcome: when they started, what their first two weeks were, and whether they improved. */
export interface OutcomeExample {
  readonly firstAt: number;
  readonly features: FirstWeeksFeatures;
  readonly improved: boolean;
}

export interface CalibrationBin {
  readonly from: number;
  readonly to: number;
  /** Mean predicted probability of the bin's users. */
  readonly predicted: number;
  /** Share of them that improved. */
  readonly observed: number;
  readonly n: number;
}

export interface ModelQuality {
  readonly accuracy: number;
  readonly auc: number;
  readonly brier: number;
  readonly trainedOn: number;
  readonly testedOn: number;
  /** Users who started before this instant trained the model; the others tested it. */
  readonly splitAt: string;
  readonly calibration: readonly CalibrationBin[];
}

/** A fitted model as stored: standardisation, the library's own serialised form, and its quality on the held-out users. */
export interface OutcomeModel {
  readonly outcome: OutcomeName;
  readonly features: readonly FeatureName[];
  readonly means: readonly number[];
  readonly sds: readonly number[];
  readonly regression: LogisticRegressionJson;
  readonly quality: ModelQuality;
}

export class NotEnoughOutcomes extends Error {}

/** Share of the users, latest starters, held out to test. */
const TEST_SHARE = 0.3;
/** Each side of the split needs both outcomes to train and to score AUC. */
const MIN_PER_CLASS = 5;
/**
 * The library's batch gradient ascent sums the gradient over the users: a step of 1 / n is a unit
 * step on the mean, which standardised inputs keep stable (1.5 of them per step still is), and
 * 1,000 steps converge to well within the figures' precision (the test of a known line checks it).
 */
const STEPS = 1_000;
const LEARNING_RATE = 1.5;
/**
 * The most training users the regression is fitted on: its batch gradient ascent costs steps x
 * users, and a dozen coefficients are pinned down long before 5,000 users (the planted
 * population's accuracy and AUC at 10,000 users moved in the third decimal). Past it, every
 * n-th training user in time order is taken, so the sample spans the training period evenly
 * and the same users give the same model.
 */
export const MAX_TRAINING_USERS = 5_000;

function evenSample<T>(ordered: readonly T[], size: number): readonly T[] {
  if (ordered.length <= size) return ordered;
  return Array.from({ length: size }, (_, i) => ordered[Math.floor((i * ordered.length) / size)]!);
}

function rawRow(features: FirstWeeksFeatures, outcome: OutcomeName): (number | null)[] {
  return FEATURE_NAMES.map((name) => MODEL_FEATURES[name](features, outcome));
}

function standardiser(rows: readonly (number | null)[][]): { means: number[]; sds: number[] } {
  const means: number[] = [];
  const sds: number[] = [];
  FEATURE_NAMES.forEach((_, column) => {
    const values = rows.map((row) => row[column]).filter((value): value is number => value !== null);
    const mean = values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
    const variance = values.length === 0 ? 0 : values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
    means.push(mean);
    // A feature constant in training carries nothing: a unit sd keeps it at 0 instead of dividing by 0.
    sds.push(variance > 0 ? Math.sqrt(variance) : 1);
  });
  return { means, sds };
}

/** Standardised rows with a leading 1 for the intercept (the library fits none of its own); a null is the mean. */
function design(rows: readonly (number | null)[][], means: readonly number[], sds: readonly number[]): Matrix {
  return new Matrix(rows.map((row) => [1, ...row.map((value, column) => (value === null ? 0 : (value - means[column]!) / sds[column]!))]));
}

/** Each user's probability of the outcome under the model. */
export function predictOutcome(model: Omit<OutcomeModel, 'quality'>, users: readonly FirstWeeksFeatures[]): number[] {
  if (users.length === 0) return [];
  // classifiers[0] scores "not class 0", class 0 being "did not improve".
  return LogisticRegression.load(model.regression).classifiers[0]!.testScores(design(users.map((features) => rawRow(features, model.outcome)), model.means, model.sds));
}

/** Probability that a random improver scores above a random non-improver (ties count half): the Mann-Whitney form. */
export function rocAuc(probabilities: readonly number[], improved: readonly boolean[]): number {
  const order = probabilities.map((p, i) => ({ p, y: improved[i]! })).sort((a, b) => a.p - b.p);
  let rankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end < order.length && order[end]!.p === order[start]!.p) end += 1;
    const meanRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i += 1) if (order[i]!.y) rankSum += meanRank;
    start = end;
  }
  const positives = improved.filter(Boolean).length;
  const negatives = improved.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Ten bins of predicted probability, 0-0.1 .. 0.9-1; empty bins are left out. */
export function calibrationTable(probabilities: readonly number[], improved: readonly boolean[]): CalibrationBin[] {
  const bins = Array.from({ length: 10 }, () => ({ predicted: 0, observed: 0, n: 0 }));
  probabilities.forEach((p, i) => {
    const bin = bins[Math.min(9, Math.floor(p * 10))]!;
    bin.predicted += p;
    bin.observed += improved[i] ? 1 : 0;
    bin.n += 1;
  });
  return bins.flatMap((bin, i) => (bin.n === 0 ? [] : [{ from: i / 10, to: (i + 1) / 10, predicted: bin.predicted / bin.n, observed: bin.observed / bin.n, n: bin.n }]));
}

export function qualityOf(probabilities: readonly number[], improved: readonly boolean[]): Pick<ModelQuality, 'accuracy' | 'auc' | 'brier' | 'calibration'> {
  const n = probabilities.length;
  return {
    accuracy: probabilities.filter((p, i) => p >= 0.5 === improved[i]).length / n,
    auc: rocAuc(probabilities, improved),
    brier: probabilities.reduce((sum, p, i) => sum + (p - (improved[i] ? 1 : 0)) ** 2, 0) / n,
    calibration: calibrationTable(probabilities, improved),
  };
}

const hasBothOutcomes = (examples: readonly OutcomeExample[]) =>
  examples.filter((example) => example.improved).length >= MIN_PER_CLASS && examples.filter((example) => !example.improved).length >= MIN_PER_CLASS;

/**
 * Fits the outcome model on the users who started first and scores it on the later ones (a
 * time-based split: the model is judged on people it could not have seen, as it will be used).
 */
export function trainOutcome(outcome: OutcomeName, examples: readonly OutcomeExample[]): OutcomeModel {
  const ordered = [...examples].sort((a, b) => a.firstAt - b.firstAt);
  const cut = Math.round(ordered.length * (1 - TEST_SHARE));
  const [train, test] = [evenSample(ordered.slice(0, cut), MAX_TRAINING_USERS), ordered.slice(cut)];
  if (!hasBothOutcomes(train) || !hasBothOutcomes(test)) {
    throw new NotEnoughOutcomes(`${outcome}: training and testing each need ${MIN_PER_CLASS} users who improved and ${MIN_PER_CLASS} who did not; ${examples.length} users have known outcomes`);
  }
  const rows = train.map((example) => rawRow(example.features, outcome));
  const { means, sds } = standardiser(rows);
  const regression = new LogisticRegression({ numSteps: STEPS, learningRate: LEARNING_RATE / train.length });
  regression.train(design(rows, means, sds), Matrix.columnVector(train.map((example) => (example.improved ? 1 : 0))));
  const fitted = { outcome, features: FEATURE_NAMES, means, sds, regression: JSON.parse(JSON.stringify(regression.toJSON())) as LogisticRegressionJson };
  const probabilities = predictOutcome(fitted, test.map((example) => example.features));
  const quality = { ...qualityOf(probabilities, test.map((example) => example.improved)), trainedOn: train.length, testedOn: test.length, splitAt: new Date(test[0]!.firstAt).toISOString() };
  return { ...fitted, quality };
}
