import type { FirstWeeksFeatures } from '../../../functions/domain/behaviour/outcome-features';
import { NotEnoughOutcomes, calibrationTable, predictOutcome, qualityOf, rocAuc, trainOutcome } from '../../../functions/domain/behaviour/outcome-model';
import { cohortPrediction, releasePredictions } from '../../../functions/domain/behaviour/outcome-predictions';
import { mulberry32 } from '../../../functions/domain/demo/synthetic-traffic';
import { releaseGate } from '../../../functions/domain/privacy/release-gate';

const early = (completedSessions: number, baselineScore: number): FirstWeeksFeatures => ({
  sessions: completedSessions,
  completedSessions,
  secondWeekSessions: 0,
  secondWeekCompleted: 0,
  activeDays: completedSessions,
  completionRate: null,
  sessionDurationSec: null,
  moodValence: null,
  choiceResponseMs: null,
  interventionCompletionRate: null,
  crisisSignals: 0,
  baseline: { 'PHQ-9': { at: 0, score: baselineScore } },
});

describe('the outcome model\'s figures', () => {
  it('AUC: 1 when every improver ranks above every other, 0.5 for ties, the pair count otherwise', () => {
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [true, true, false, false])).toBe(1);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [true, false, true, false])).toBe(0.5);
    // Pairs (improver, other): (0.8, 0.9) lost, (0.8, 0.1) won, (0.3, 0.9) lost, (0.3, 0.1) won.
    expect(rocAuc([0.8, 0.9, 0.3, 0.1], [true, false, true, false])).toBe(0.5);
    expect(rocAuc([0.8, 0.7, 0.3, 0.1], [true, false, true, false])).toBe(0.75);
  });

  it('accuracy at 0.5, the Brier score, and a calibration table of the tenths that have users', () => {
    const quality = qualityOf([0.95, 0.65, 0.61, 0.05], [true, false, true, false]);

    expect(quality.accuracy).toBe(0.75);
    expect(quality.brier).toBeCloseTo((0.05 ** 2 + 0.65 ** 2 + 0.39 ** 2 + 0.05 ** 2) / 4, 12);
    expect(calibrationTable([0.95, 0.65, 0.61, 0.05], [true, false, true, false])).toEqual([
      { from: 0, to: 0.1, predicted: 0.05, observed: 0, n: 1 },
      { from: 0.6, to: 0.7, predicted: 0.63, observed: 0.5, n: 2 },
      { from: 0.9, to: 1, predicted: 0.95, observed: 1, n: 1 },
    ]);
  });
});

describe('training', () => {
  // Outcomes drawn from a known logistic line: log-odds = 1.2 (completed - 5) - 0.3 (baseline - 16).
  const random = mulberry32(42);
  const examples = Array.from({ length: 3_000 }, (_, i) => {
    const features = early(Math.floor(random() * 11), 8 + Math.floor(random() * 17));
    const logOdds = 1.2 * (features.completedSessions - 5) - 0.3 * (features.baseline['PHQ-9']!.score - 16);
    return { firstAt: i * 60_000, features, improved: random() < 1 / (1 + Math.exp(-logOdds)) };
  });

  it('recovers a known line: its probabilities match the true ones, tested on the later starters', () => {
    const model = trainOutcome('phq9_reliable_improvement', examples);
    const probe = [early(2, 20), early(5, 16), early(8, 10)];
    const truth = [1.2 * -3 - 0.3 * 4, 0, 1.2 * 3 - 0.3 * -6].map((logOdds) => 1 / (1 + Math.exp(-logOdds)));

    predictOutcome(model, probe).forEach((p, i) => expect(Math.abs(p - truth[i]!)).toBeLessThan(0.05));
    expect(model.quality).toMatchObject({ trainedOn: 2_100, testedOn: 900, splitAt: new Date(2_100 * 60_000).toISOString() });
    expect(model.quality.auc).toBeGreaterThan(0.9);
  });

  it('refuses to train without enough of both outcomes on each side of the split', () => {
    expect(() => trainOutcome('phq9_reliable_improvement', examples.slice(0, 12))).toThrow(NotEnoughOutcomes);
  });
});

describe('a cohort\'s prediction', () => {
  it('is the mean probability with its Poisson-binomial interval, and the actual rate of the known outcomes', () => {
    const row = cohortPrediction('all', [0.2, 0.4, 0.6, 0.8], [true, false, null, true]);
    const spread = (1.959963984540054 * Math.sqrt(0.16 + 0.24 + 0.24 + 0.16)) / 4;

    expect(row).toMatchObject({ cohort: 'all', users: 4, probability: 0.5, known: 3, actual: 2 / 3 });
    expect(row.ci95[0]).toBeCloseTo(0.5 - spread, 12);
    expect(row.ci95[1]).toBeCloseTo(0.5 + spread, 12);
  });

  it('is withheld under k users, and its actual rate while fewer than k outcomes are known', () => {
    const rows = [cohortPrediction('small', [0.5, 0.5], [true, false]), cohortPrediction('young', [0.5, 0.5, 0.5], [true, null, null]), cohortPrediction('known', [0.5, 0.5, 0.5], [true, false, true])];
    const released = releasePredictions(rows, releaseGate(3));

    expect(released.suppressed).toEqual([{ group: { cohort: 'small' }, reason: 'k_anonymity' }]);
    expect(released.predictions.map((row) => [row.cohort, row.actual, row.outcomesKnown])).toEqual([
      ['young', null, 0],
      ['known', 2 / 3, 3],
    ]);
  });
});
