import { addDyadic, dyadic, toNumberRoundedUp, type Dyadic } from './dyadic';
import type { RandomBits } from './random-bits';

/**
 * Contribution bounding: the noise of a mechanism is sized for one user's largest possible effect,
 * so that effect has to be enforced on the data, not assumed. Each user keeps at most m values,
 * each clamped to [lower, upper]; adding or removing a user then moves a sum by at most
 * m·max(|lower|, |upper|) and a count of values by at most m. A released scalar has one
 * coordinate, so these bounds are its L1 and its L2 sensitivity alike.
 */
export interface ContributionBounds {
  /** m: values kept per user. */
  readonly maxContributionsPerUser: number;
  readonly lower: number;
  readonly upper: number;
}

export interface BoundedContributions {
  /** The sum of the kept, clamped values, exact (a float sum rounds, and its rounding can exceed the bound). */
  readonly sum: Dyadic;
  /** The number of values kept. */
  readonly count: number;
  /** m·max(|lower|, |upper|), rounded up to a double. */
  readonly sumSensitivity: number;
  /** m. */
  readonly countSensitivity: number;
}

/**
 * Bounds each user's contributions. A user with more than m values keeps m of them chosen
 * uniformly at random by the random source: a fixed order (the first m by time, say) would keep
 * a user's earliest values and bias a mean towards them, while a uniform sample keeps the kept
 * values' mean an unbiased estimate of the user's. A NaN is no value and is dropped before the
 * choice (it could not be clamped to anything meaningful, and dropping it can only lower the
 * user's count); ±Infinity is clamped like any other value out of range.
 */
export function boundContributions<User>(
  random: RandomBits,
  contributions: ReadonlyMap<User, readonly number[]>,
  bounds: ContributionBounds,
): BoundedContributions {
  const { maxContributionsPerUser: m, lower, upper } = checkBounds(bounds);
  let sum = dyadic(0);
  let count = 0;
  for (const values of contributions.values()) {
    for (const value of sampleWithoutReplacement(random, values.filter((v) => !Number.isNaN(v)), m)) {
      sum = addDyadic(sum, dyadic(Math.min(upper, Math.max(lower, value))));
      count++;
    }
  }
  const largest = dyadic(Math.max(Math.abs(lower), Math.abs(upper))).timesTwoTo1074;
  return {
    sum,
    count,
    sumSensitivity: toNumberRoundedUp({ timesTwoTo1074: BigInt(m) * largest }),
    countSensitivity: m,
  };
}

/** k of the values chosen uniformly (a partial Fisher-Yates shuffle), or all when there are no more. */
function sampleWithoutReplacement(random: RandomBits, values: number[], k: number): number[] {
  if (values.length <= k) return values;
  for (let i = 0; i < k; i++) {
    const j = i + Number(random.uniformBelow(BigInt(values.length - i)));
    const chosen = values[j] as number;
    values[j] = values[i] as number;
    values[i] = chosen;
  }
  return values.slice(0, k);
}

function checkBounds(bounds: ContributionBounds): ContributionBounds {
  const { maxContributionsPerUser: m, lower, upper } = bounds;
  if (!Number.isSafeInteger(m) || m < 1) throw new RangeError(`at least one contribution per user must be kept, got ${m}`);
  if (!Number.isFinite(lower) || !Number.isFinite(upper) || lower > upper) {
    throw new RangeError(`clamp bounds must be finite with lower ≤ upper, got [${lower}, ${upper}]`);
  }
  return bounds;
}
