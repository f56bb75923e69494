import { decimalOf, decimalToNumberRoundedDown, subtractDecimal, type ExactDecimal } from './exact-decimal';
import type { PrivacyCost } from './mechanisms';

/**
 * A dataset's privacy budget under sequential composition: releases costing (ε_i, δ_i) on the same
 * data are together (Σε_i, Σδ_i)-DP (Dwork and Roth 2014, Theorem 3.16). Tighter accounting
 * (advanced composition, zCDP for the Gaussian releases) would let more releases through; this one
 * is simple to audit and never optimistic. The ledger of past spends is the caller's to keep, one
 * list per dataset.
 *
 * Sums are exact on ε and δ read as decimals (exact-decimal.ts), which is what the mechanisms
 * spend: ten spends of 0.1 fill a budget of 1 and 0.1 + 0.2 fills 0.3, which a floating-point sum
 * would refuse or admit by its rounding.
 */
export type PrivacyBudget = PrivacyCost;

export type SpendDecision =
  | { readonly ok: true; readonly remainingAfter: PrivacyCost }
  | { readonly ok: false; readonly reason: 'privacy_budget_exhausted'; readonly remaining: PrivacyCost }
  | { readonly ok: false; readonly reason: 'invalid_spend'; readonly message: string };

/** What is left of the budget after the spends, each part rounded down. */
export function remainingBudget(budget: PrivacyBudget, spent: readonly PrivacyCost[]): PrivacyCost {
  const left = exactRemaining(checkBudget(budget), spent);
  return { epsilon: roundedDown(left.epsilon), delta: roundedDown(left.delta) };
}

/**
 * Whether a release costing `request` may run: refused with 'privacy_budget_exhausted' when either
 * ε or δ would overspend (the HTTP layer answers 403), with 'invalid_spend' when the request is no
 * cost a mechanism spends. A bad budget or ledger entry throws: that is a fault of ours.
 */
export function canSpend(budget: PrivacyBudget, spent: readonly PrivacyCost[], request: PrivacyCost): SpendDecision {
  const left = exactRemaining(checkBudget(budget), spent);
  const problem = costProblem(request);
  if (problem) return { ok: false, reason: 'invalid_spend', message: problem };
  const epsilonAfter = subtractDecimal(left.epsilon, decimalOf(request.epsilon));
  const deltaAfter = subtractDecimal(left.delta, decimalOf(request.delta));
  if (epsilonAfter.units < 0n || deltaAfter.units < 0n) {
    return { ok: false, reason: 'privacy_budget_exhausted', remaining: { epsilon: roundedDown(left.epsilon), delta: roundedDown(left.delta) } };
  }
  return { ok: true, remainingAfter: { epsilon: roundedDown(epsilonAfter), delta: roundedDown(deltaAfter) } };
}

function exactRemaining(budget: PrivacyBudget, spent: readonly PrivacyCost[]): { epsilon: ExactDecimal; delta: ExactDecimal } {
  let epsilon = decimalOf(budget.epsilon);
  let delta = decimalOf(budget.delta);
  for (const [i, cost] of spent.entries()) {
    const problem = costProblem(cost);
    if (problem) throw new RangeError(`past spend ${i}: ${problem}`);
    epsilon = subtractDecimal(epsilon, decimalOf(cost.epsilon));
    delta = subtractDecimal(delta, decimalOf(cost.delta));
  }
  // A ledger already over budget (the budget was lowered since) leaves nothing, not a debt to report.
  const atLeastZero = (d: ExactDecimal) => (d.units < 0n ? { units: 0n, places: 0 } : d);
  return { epsilon: atLeastZero(epsilon), delta: atLeastZero(delta) };
}

function costProblem(cost: PrivacyCost): string | undefined {
  if (!(cost.epsilon > 0 && Number.isFinite(cost.epsilon))) return `ε must be positive and finite, got ${cost.epsilon}`;
  if (!(cost.delta >= 0 && cost.delta < 1)) return `δ must be in [0, 1), got ${cost.delta}`;
  return undefined;
}

function checkBudget(budget: PrivacyBudget): PrivacyBudget {
  const problem = costProblem(budget);
  if (problem) throw new RangeError(`privacy budget: ${problem}`);
  return budget;
}

/** A remaining budget may not be overstated: the largest double at or below it. */
function roundedDown(value: ExactDecimal): number {
  return decimalToNumberRoundedDown(value);
}
