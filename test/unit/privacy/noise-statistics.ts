import { randomBytes } from 'node:crypto';
import { pooledBytes, randomBits, type RandomBits } from '../../../functions/domain/privacy/noise/random-bits';

/**
 * Shared statistics for the noise tests. Every bound is STANDARD_ERRORS standard errors of the
 * statistic's sampling distribution, which for N ≥ 10^4 draws of a distribution with all moments
 * finite is close to normal: a correct sampler fails one such check with probability
 * P(|Z| > 6) ≈ 2.0e-9, so the whole suite (fewer than 60 checks) fails falsely less than once in
 * 8 million runs. A sampler off by a few percent in variance fails them.
 */
export const STANDARD_ERRORS = 6;
export const FALSE_FAILURE_PER_CHECK = 2.0e-9;

/**
 * A seeded byte source (xorshift32), for tests only: run twice from one seed, two boundings make
 * the same choices for the users they share, as the neighbouring datasets of the definition do,
 * and a property test's failing case replays from its seed.
 */
export function seededRandom(seed: number): RandomBits {
  let state = seed | 0 || 1;
  return randomBits((count) =>
    Uint8Array.from({ length: count }, () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state & 0xff;
    }),
  );
}

/** The production kind of randomness: cryptographic bytes, pooled. */
export function cryptoRandom(): RandomBits {
  return randomBits(pooledBytes((n) => randomBytes(n)));
}

export interface Moments {
  readonly variance: number;
  readonly fourthMoment: number;
}

/** Variance and fourth moment of a distribution on ℤ symmetric about 0 with P[x] ∝ weight(|x|), summed to `last`. */
export function symmetricPmfMoments(weight: (magnitude: number) => number, last: number): Moments {
  let mass = weight(0);
  let second = 0;
  let fourth = 0;
  for (let x = 1; x <= last; x++) {
    const w = weight(x);
    mass += 2 * w;
    second += 2 * x * x * w;
    fourth += 2 * x ** 4 * w;
  }
  return { variance: second / mass, fourthMoment: fourth / mass };
}

export function discreteLaplaceMoments(scale: number): Moments {
  return symmetricPmfMoments((x) => Math.exp(-x / scale), Math.ceil(80 * scale) + 10);
}

export function discreteGaussianMoments(sigmaSquared: number): Moments {
  return symmetricPmfMoments((x) => Math.exp(-(x * x) / (2 * sigmaSquared)), Math.ceil(40 * Math.sqrt(sigmaSquared)) + 10);
}

export function expectWithinStandardErrors(observed: number, expected: number, standardError: number): void {
  expect(Math.abs(observed - expected)).toBeLessThanOrEqual(STANDARD_ERRORS * standardError);
}

/**
 * Noise drawn from a distribution symmetric about 0 with the given moments: its mean is 0 (standard
 * error σ/√N), its mean square is σ² (the mean being known, Σx²/N has variance (μ4 - σ⁴)/N exactly),
 * and among the non-zero draws the positive ones are Binomial(n, 1/2) (standard error √n/2).
 */
export function expectNoiseMatches(noise: readonly number[], moments: Moments): void {
  const n = noise.length;
  const { variance, fourthMoment } = moments;
  let sum = 0;
  let sumOfSquares = 0;
  let positive = 0;
  let negative = 0;
  for (const x of noise) {
    sum += x;
    sumOfSquares += x * x;
    if (x > 0) positive++;
    else if (x < 0) negative++;
  }
  expectWithinStandardErrors(sum / n, 0, Math.sqrt(variance / n));
  expectWithinStandardErrors(sumOfSquares / n, variance, Math.sqrt((fourthMoment - variance * variance) / n));
  const nonZero = positive + negative;
  expectWithinStandardErrors(positive, nonZero / 2, Math.sqrt(nonZero) / 2);
}

export function draw<T>(count: number, sample: () => T): T[] {
  return Array.from({ length: count }, sample);
}
