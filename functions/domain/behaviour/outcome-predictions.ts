import { z } from 'zod';
import type { ReleaseGate } from '../privacy/release-gate';
import type { OutcomeName } from './outcome-labels';
import type { ModelQuality } from './outcome-model';

/** Cohort ids as stored cohort definitions will name them; "all" is the whole population. */
export const COHORT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
export const ALL_USERS_COHORT = 'all';

export const predictionsQuerySchema = z.object({
  cohort: z.string().regex(COHORT_ID, 'must be a cohort id (1-64 letters, digits, _ . : -)').optional().meta({ description: 'One cohort; all cohorts when left out.', example: ALL_USERS_COHORT }),
});

/** How the model did on users whose outcomes became known after it was trained. */
export interface LiveAccuracy {
  readonly accuracy: number;
  readonly n: number;
  readonly measuredAt: string;
}

/** A model version as the API shows it. */
export interface ModelVersionView {
  readonly version: string;
  readonly trainedAt: string;
  readonly outcome: OutcomeName;
  readonly quality: ModelQuality;
  readonly live: LiveAccuracy | null;
}

/**
 * One cohort's prediction: `users` with a complete first two weeks, the mean of their predicted
 * probabilities with the 95 % interval the cohort's observed rate should fall in, and `actual`,
 * the observed rate over the `known` users whose eight weeks have passed (null while none have).
 */
export interface CohortPrediction {
  readonly cohort: string;
  readonly users: number;
  readonly probability: number;
  readonly ci95: readonly [number, number];
  readonly known: number;
  readonly actual: number | null;
}

const Z95 = 1.959963984540054;

/**
 * The cohort's figures from its users' probabilities and the outcomes known so far. The interval
 * is that of the rate of a sum of independent Bernoulli(p_i) (a Poisson binomial): the mean
 * +- 1.96 sqrt(sum p_i (1 - p_i)) / n.
 */
export function cohortPrediction(cohort: string, probabilities: readonly number[], outcomes: readonly (boolean | null)[]): CohortPrediction {
  const n = probabilities.length;
  const mean = probabilities.reduce((sum, p) => sum + p, 0) / n;
  const spread = (Z95 * Math.sqrt(probabilities.reduce((sum, p) => sum + p * (1 - p), 0))) / n;
  const known = outcomes.filter((outcome): outcome is boolean => outcome !== null);
  return {
    cohort,
    users: n,
    probability: mean,
    ci95: [Math.max(0, mean - spread), Math.min(1, mean + spread)],
    known: known.length,
    actual: known.length === 0 ? null : known.filter(Boolean).length / known.length,
  };
}

export interface ReleasedPrediction {
  readonly cohort: string;
  readonly users: number;
  readonly predictedOutcome: 'reliable_improvement';
  readonly probability: number;
  readonly ci95: readonly [number, number];
  readonly actual: number | null;
  readonly outcomesKnown: number;
}

/**
 * What may be shown: a cohort of fewer than k users is withheld; so is the actual rate while
 * fewer than k of its outcomes are known (a rate over fewer people would be theirs).
 */
export function releasePredictions(rows: readonly CohortPrediction[], gate: ReleaseGate): { predictions: ReleasedPrediction[]; suppressed: { group: { cohort: string }; reason: 'k_anonymity' }[] } {
  const shown = rows.filter((row) => gate.settles(row.users));
  return {
    predictions: shown.map((row) => ({
      cohort: row.cohort,
      users: row.users,
      predictedOutcome: 'reliable_improvement',
      probability: row.probability,
      ci95: row.ci95,
      actual: gate.settles(row.known) ? row.actual : null,
      outcomesKnown: gate.settles(row.known) ? row.known : 0,
    })),
    suppressed: rows.filter((row) => !gate.settles(row.users)).map((row) => ({ group: { cohort: row.cohort }, reason: 'k_anonymity' })),
  };
}
