import type { Instrument } from '../events/schema';
import { OUTCOME_DAYS, firstWeeksFeatures, type OutcomeState } from './outcome-features';

const DAY_MS = 86_400_000;

/**
 * Reliable improvement by week 8 (README "Outcome prediction"): a drop from the baseline of at
 * least `minDrop` points, or (PHQ-9) to at most half the baseline.
 */
export const OUTCOMES = {
  phq9_reliable_improvement: { instrument: 'PHQ-9', minDrop: 6, halved: true },
  gad7_reliable_improvement: { instrument: 'GAD-7', minDrop: 4, halved: false },
} as const satisfies Record<string, { instrument: Instrument; minDrop: number; halved: boolean }>;
export type OutcomeName = keyof typeof OUTCOMES;
export const OUTCOME_NAMES = Object.keys(OUTCOMES) as OutcomeName[];

/**
 * Where a user stands on an outcome at `now`:
 * - `no_baseline`: no score of the instrument in their first two weeks (nothing to improve from,
 *   and nothing to predict from);
 * - `pending`: the baseline is less than eight weeks old;
 * - `known`: eight weeks have passed; improved when the last score in the eight weeks after the
 *   baseline meets the outcome's rule. A user with no later score has not shown improvement, and
 *   has no `change` (that last score minus the baseline).
 */
export type OutcomeStatus =
  | { readonly status: 'no_baseline' }
  | { readonly status: 'pending'; readonly baselineAt: number }
  | { readonly status: 'known'; readonly baselineAt: number; readonly improved: boolean; readonly change: number | null };

export function outcomeStatus(state: OutcomeState | undefined, outcome: OutcomeName, now: number): OutcomeStatus {
  const { instrument, minDrop, halved } = OUTCOMES[outcome];
  const baseline = firstWeeksFeatures(state).baseline[instrument];
  if (!baseline) return { status: 'no_baseline' };
  const end = baseline.at + OUTCOME_DAYS * DAY_MS;
  if (now < end) return { status: 'pending', baselineAt: baseline.at };
  const later = (state?.scores[instrument] ?? []).filter((score) => score.at > baseline.at && score.at <= end);
  const last = later[later.length - 1];
  const improved = last !== undefined && (baseline.score - last.score >= minDrop || (halved && baseline.score > 0 && last.score <= baseline.score / 2));
  return { status: 'known', baselineAt: baseline.at, improved, change: last === undefined ? null : last.score - baseline.score };
}
