import { bitLength, type RandomBits } from './random-bits';

/**
 * Exact samplers of Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential Privacy"
 * (NeurIPS 2020), Algorithms 1 to 3. Every step is integer or rational arithmetic on BigInt over
 * uniform integers: no floating point, so the output distribution is exactly the one the privacy
 * proof assumes. (Textbook Laplace noise computed in doubles is not: Mironov, CCS 2012, showed its
 * set of reachable outputs depends on the input and can reveal it.)
 */

/** A non-negative rational numerator / denominator, denominator ≥ 1. */
export interface Rational {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

export function rational(numerator: bigint, denominator: bigint = 1n): Rational {
  if (denominator < 1n || numerator < 0n) throw new RangeError(`a non-negative rational needs denominator ≥ 1, got ${numerator}/${denominator}`);
  return { numerator, denominator };
}

/** Bernoulli(numerator / denominator), for 0 ≤ numerator ≤ denominator. */
export function bernoulli(random: RandomBits, numerator: bigint, denominator: bigint): boolean {
  return random.uniformBelow(denominator) < numerator;
}

/**
 * Bernoulli(exp(-γ)) for a rational γ ≥ 0 (CKS Algorithm 1). For γ ≤ 1: draw A_k ~ Bernoulli(γ/k)
 * for k = 1, 2, ... until one is 0; P[the first 0 is at an odd k] = 1 - γ + γ²/2! - ... = exp(-γ).
 * For γ > 1, exp(-γ) = exp(-1)^⌊γ⌋ · exp(-(γ - ⌊γ⌋)), each factor an independent coin, so the
 * series above is only ever run with γ ≤ 1 where it converges fast.
 */
export function bernoulliExpMinus(random: RandomBits, gamma: Rational): boolean {
  const { numerator, denominator } = gamma;
  if (numerator <= denominator) {
    let k = 1n;
    while (bernoulli(random, numerator, denominator * k)) k++;
    return k % 2n === 1n;
  }
  const whole = numerator / denominator;
  const one = rational(1n);
  for (let i = 0n; i < whole; i++) if (!bernoulliExpMinus(random, one)) return false;
  return bernoulliExpMinus(random, rational(numerator - whole * denominator, denominator));
}

/**
 * The discrete Laplace distribution with rational scale τ = numerator / denominator, P[x] ∝
 * exp(-|x|/τ) on the integers (CKS Algorithm 2, with t = numerator, s = denominator). A geometric
 * variable is built as U + t·V, U uniform in [0, t) kept with probability exp(-U/t), V counting
 * exp(-1) coins; dividing by s scales it; a random sign, with -0 rejected so 0 is not counted
 * twice, makes it two-sided.
 */
export function sampleDiscreteLaplace(random: RandomBits, scale: Rational): bigint {
  const t = scale.numerator;
  const s = scale.denominator;
  if (t < 1n) throw new RangeError('the discrete Laplace scale must be positive');
  const one = rational(1n);
  for (;;) {
    const u = random.uniformBelow(t);
    if (!bernoulliExpMinus(random, rational(u, t))) continue;
    let v = 0n;
    while (bernoulliExpMinus(random, one)) v++;
    const magnitude = (u + t * v) / s;
    const negative = bernoulli(random, 1n, 2n);
    if (negative && magnitude === 0n) continue;
    return negative ? -magnitude : magnitude;
  }
}

/**
 * The discrete Gaussian N_Z(0, σ²), P[x] ∝ exp(-x²/(2σ²)) on the integers, for a rational σ² > 0
 * (CKS Algorithm 3): rejection from a discrete Laplace of scale t = ⌊σ⌋ + 1, keeping Y with
 * probability exp(-(|Y| - σ²/t)²/(2σ²)). With σ² = a/b that exponent is the rational
 * (|Y|·b·t - a)² / (2·a·b·t²). The expected number of Laplace draws is below 2 for every σ.
 */
export function sampleDiscreteGaussian(random: RandomBits, variance: Rational): bigint {
  const a = variance.numerator;
  const b = variance.denominator;
  if (a < 1n) throw new RangeError('the discrete Gaussian σ² must be positive');
  // ⌊σ⌋ = ⌊√⌊σ²⌋⌋ for σ² ≥ 0.
  const t = integerSquareRoot(a / b) + 1n;
  const laplaceScale = rational(t);
  for (;;) {
    const y = sampleDiscreteLaplace(random, laplaceScale);
    const magnitude = y < 0n ? -y : y;
    const offset = magnitude * b * t - a;
    if (bernoulliExpMinus(random, rational(offset * offset, 2n * a * b * t * t))) return y;
  }
}

/** ⌊√n⌋ for n ≥ 0, by Newton's method on integers. */
export function integerSquareRoot(n: bigint): bigint {
  if (n < 0n) throw new RangeError('no square root of a negative number');
  if (n < 2n) return n;
  // 2^⌈bits/2⌉ is above √n; from above, x ← ⌊(x + ⌊n/x⌋)/2⌋ decreases strictly to ⌊√n⌋ and stops there.
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const next = (x + n / x) / 2n;
    if (next >= x) return x;
    x = next;
  }
}
