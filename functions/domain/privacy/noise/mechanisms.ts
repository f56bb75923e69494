import {
  ceilDivPowerOfTwo,
  dyadic,
  powerOfTwoExponent,
  rationalOf,
  roundToMultipleOfPowerOfTwo,
  timesPowerOfTwo,
  type Dyadic,
} from './dyadic';
import { decimalRational } from './exact-decimal';
import { rational, sampleDiscreteGaussian, sampleDiscreteLaplace, type Rational } from './exact-samplers';
import { bitLength, type RandomBits } from './random-bits';

/**
 * Differential-privacy mechanisms over the exact samplers. Counts get integer noise. Real values
 * (sums, means) are rounded to a grid of granularity λ = 2^k and get λ times integer noise, so a
 * release is λ·(round(x/λ) + Z): its distribution is exactly a shifted discrete Laplace or Gaussian
 * on the grid, whose privacy proof holds as written. Mironov's snapping mechanism would also resist
 * the floating-point attack, but it needs a carefully rounded logarithm and a clamp that bias the
 * answer; the grid needs neither, and an analyst reads an error bar on the grid the same way.
 *
 * The floating-point arithmetic left here (the noise's variance, the Gaussian's calibration) only
 * describes or sizes the noise and is rounded towards more noise; no sample depends on it.
 */

/** What a release spent from its dataset's budget. */
export interface PrivacyCost {
  readonly epsilon: number;
  readonly delta: number;
}

/**
 * The noise's distribution, in the value's units: the discrete Laplace P[x] ∝ e^{-|x|/scale}, or
 * the discrete Gaussian P[x] ∝ e^{-x²/2σ²} (σ is its parameter; its variance is a hair below σ²
 * when σ² < 16). On a grid both live on λℤ. What an interval around the release needs.
 */
export type NoiseDistribution =
  | { readonly distribution: 'discrete_laplace'; readonly scale: number }
  | { readonly distribution: 'discrete_gaussian'; readonly sigma: number };

export interface NoisyRelease {
  readonly value: number;
  readonly spent: PrivacyCost;
  /** The noise's exact variance (its distribution is known), for the release's error bar. */
  readonly variance: number;
  readonly standardDeviation: number;
  readonly noise: NoiseDistribution;
}

export interface GridRelease extends NoisyRelease {
  /** λ: the value is a whole multiple of it. */
  readonly granularity: number;
}

export interface CountQuery {
  /** The true count, a whole number. */
  readonly value: number;
  /** How far one user can move the count (after contribution bounding), a whole number. */
  readonly sensitivity: number;
  readonly epsilon: number;
}

export interface RealQuery {
  /** The true value: a double, or the exact sum a contribution bound computed. */
  readonly value: number | Dyadic;
  readonly sensitivity: number;
  readonly epsilon: number;
  /** λ, a power of two: the smallest step the answer shows. */
  readonly granularity: number;
}

export interface DeltaQuery {
  /** The probability with which the ε bound may fail; Gaussian noise cannot offer δ = 0. */
  readonly delta: number;
}

/** ε-DP for a count whose sensitivity is Δ: discrete Laplace noise of scale exactly Δ/ε. */
export function discreteLaplaceMechanism(random: RandomBits, query: CountQuery): NoisyRelease {
  const { value, sensitivity, epsilon } = query;
  checkCount(value, sensitivity);
  checkEpsilon(epsilon);
  const scale = scaleOf(BigInt(sensitivity), epsilon);
  const noisy = BigInt(value) + sampleDiscreteLaplace(random, scale);
  const noise = { distribution: 'discrete_laplace', scale: sensitivity / epsilon } as const;
  return withVariance(safeNumber(noisy), { epsilon, delta: 0 }, discreteLaplaceVariance(sensitivity / epsilon), noise);
}

/** (ε, δ)-DP for a count whose L2 sensitivity is Δ: discrete Gaussian noise, σ² from {@link gaussianVariance}. */
export function discreteGaussianMechanism(random: RandomBits, query: CountQuery & DeltaQuery): NoisyRelease {
  const { value, sensitivity, epsilon, delta } = query;
  checkCount(value, sensitivity);
  const sigmaSquared = gaussianVariance(epsilon, delta, sensitivity);
  const noisy = BigInt(value) + sampleDiscreteGaussian(random, sigmaSquared);
  const noise = { distribution: 'discrete_gaussian', sigma: Math.sqrt(toFloat(sigmaSquared)) } as const;
  return withVariance(safeNumber(noisy), { epsilon, delta }, discreteGaussianVariance(toFloat(sigmaSquared)), noise);
}

/** ε-DP for a real value whose L1 sensitivity is Δ, released on the grid λℤ. */
export function laplaceMechanism(random: RandomBits, query: RealQuery): GridRelease {
  const { epsilon, granularity } = query;
  checkEpsilon(epsilon);
  const { units, sensitivityUnits, exponent } = onGrid(query);
  const noise = sampleDiscreteLaplace(random, scaleOf(sensitivityUnits, epsilon));
  const variance = granularity * granularity * discreteLaplaceVariance(Number(sensitivityUnits) / epsilon);
  const distribution = { distribution: 'discrete_laplace', scale: (granularity * Number(sensitivityUnits)) / epsilon } as const;
  return { ...withVariance(gridValue(units + noise, exponent), { epsilon, delta: 0 }, variance, distribution), granularity };
}

/** (ε, δ)-DP for a real value whose L2 sensitivity is Δ, released on the grid λℤ. */
export function gaussianMechanism(random: RandomBits, query: RealQuery & DeltaQuery): GridRelease {
  const { epsilon, delta, granularity } = query;
  const { units, sensitivityUnits, exponent } = onGrid(query);
  const sigmaSquared = gaussianVariance(epsilon, delta, Number(sensitivityUnits));
  const noise = sampleDiscreteGaussian(random, sigmaSquared);
  const variance = granularity * granularity * discreteGaussianVariance(toFloat(sigmaSquared));
  const distribution = { distribution: 'discrete_gaussian', sigma: granularity * Math.sqrt(toFloat(sigmaSquared)) } as const;
  return { ...withVariance(gridValue(units + noise, exponent), { epsilon, delta }, variance, distribution), granularity };
}

/**
 * σ² for (ε, δ)-DP with integer L2 sensitivity Δ, through concentrated DP, valid for every ε > 0
 * and 0 < δ < 1 (the classical σ = Δ·√(2 ln(1.25/δ))/ε holds only for ε < 1, and was proved
 * for continuous noise):
 * - the discrete Gaussian of variance parameter σ² is ρ-zCDP with ρ = Δ²/(2σ²), as the
 *   continuous one is (CKS 2020, Section 2);
 * - ρ-zCDP implies (ρ + 2√(ρ ln(1/δ)), δ)-DP (Bun and Steinke 2016, Proposition 1.3).
 * Solving ε = ρ + 2√(ρL), L = ln(1/δ), for √ρ gives √ρ = √(L + ε) - √L = ε / (√(L + ε) + √L),
 * the second form free of cancellation. That conversion is not the tightest known, so the noise
 * is a little more than necessary (about 1 % above the classical formula at ε = 1, δ = 1e-6).
 * The result is raised by a relative 1e-9, far above the float error of the few operations (and
 * the 1e-16 between a double ε and its decimal), and taken as the exact rational value of that
 * double: the σ² used is never below the formula's.
 */
export function gaussianVariance(epsilon: number, delta: number, sensitivity: number): Rational {
  checkEpsilon(epsilon);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`Gaussian noise needs 0 < δ < 1, got ${delta}`);
  if (!(sensitivity > 0 && Number.isFinite(sensitivity))) throw new RangeError(`sensitivity must be positive, got ${sensitivity}`);
  const logInverseDelta = -Math.log(delta);
  const rootRho = epsilon / (Math.sqrt(logInverseDelta + epsilon) + Math.sqrt(logInverseDelta));
  const sigmaSquared = ((sensitivity * sensitivity) / (2 * rootRho * rootRho)) * (1 + 1e-9);
  if (!Number.isFinite(sigmaSquared)) throw new RangeError(`ε = ${epsilon}, δ = ${delta} need more noise than a double holds`);
  return rationalOf(sigmaSquared);
}

/** Var of the discrete Laplace of scale τ, P[x] ∝ exp(-|x|/τ): 2e^{-1/τ} / (1 - e^{-1/τ})². */
export function discreteLaplaceVariance(scale: number): number {
  const oneMinus = -Math.expm1(-1 / scale);
  return (2 * Math.exp(-1 / scale)) / (oneMinus * oneMinus);
}

/**
 * Var of the discrete Gaussian N_Z(0, σ²), summed over its pmf where the lattice shows. It is below
 * σ² by a relative gap that falls like e^{-2π²σ²} (Poisson summation; CKS 2020 bound it): 2e-7 at
 * σ² = 1, 1e-15 at σ² = 2, under 1e-100 beyond σ² = 16, where σ² itself stands for it.
 */
export function discreteGaussianVariance(sigmaSquared: number): number {
  if (sigmaSquared > 16) return sigmaSquared;
  // Terms beyond 40σ weigh under e^{-800}: nothing a double can add.
  const last = Math.ceil(40 * Math.sqrt(sigmaSquared)) + 1;
  let mass = 1;
  let secondMoment = 0;
  for (let y = 1; y <= last; y++) {
    const weight = Math.exp(-(y * y) / (2 * sigmaSquared));
    mass += 2 * weight;
    secondMoment += 2 * y * y * weight;
  }
  return secondMoment / mass;
}

function onGrid(query: RealQuery): { units: bigint; sensitivityUnits: bigint; exponent: number } {
  const { value, sensitivity, granularity } = query;
  const exponent = powerOfTwoExponent(granularity);
  if (exponent === undefined) throw new RangeError(`the granularity must be a power of two, got ${granularity}`);
  if (!(sensitivity > 0 && Number.isFinite(sensitivity))) throw new RangeError(`sensitivity must be positive, got ${sensitivity}`);
  const exact = typeof value === 'number' ? dyadic(value) : value;
  // |round(a/λ) - round(b/λ)| ≤ ⌈|a - b|/λ⌉ for rounding to nearest, so ⌈Δ/λ⌉ bounds a user's
  // effect on the grid units: rounding costs at most one unit more than Δ/λ, never a fraction.
  return {
    units: roundToMultipleOfPowerOfTwo(exact, exponent),
    sensitivityUnits: ceilDivPowerOfTwo(dyadic(sensitivity), exponent),
    exponent,
  };
}

/**
 * Δ/ε as an exact rational, ε read as the decimal it prints as (exact-decimal.ts): the release is
 * exactly ε-DP for the ε the budget is charged, with no rounding that shrinks the scale.
 */
function scaleOf(sensitivity: bigint, epsilon: number): Rational {
  const e = decimalRational(epsilon);
  return rational(sensitivity * e.denominator, e.numerator);
}

function gridValue(units: bigint, exponent: number): number {
  // Number(units) is exact below 2^53 and a multiple of a larger power of two above it, and
  // multiplying by 2^k is exact, so the release is on the grid either way.
  return timesPowerOfTwo(Number(units), exponent);
}

function withVariance(value: number, spent: PrivacyCost, variance: number, noise: NoiseDistribution): NoisyRelease {
  return { value, spent, variance, standardDeviation: Math.sqrt(variance), noise };
}

/** For a rational that came from a double (a power-of-two denominator): that double again. */
function toFloat(r: Rational): number {
  return timesPowerOfTwo(Number(r.numerator), 1 - bitLength(r.denominator));
}

function checkEpsilon(epsilon: number): void {
  if (!(epsilon > 0 && Number.isFinite(epsilon))) throw new RangeError(`ε must be positive and finite, got ${epsilon}`);
}

function checkCount(value: number, sensitivity: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`a count must be a whole number, got ${value}`);
  if (!Number.isSafeInteger(sensitivity) || sensitivity < 1) throw new RangeError(`a count's sensitivity must be a whole number ≥ 1, got ${sensitivity}`);
}

function safeNumber(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('the noisy count is beyond 2^53');
  return Number(n);
}
