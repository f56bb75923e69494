import type { NoiseDistribution } from './mechanisms';

/** The chance an interval may miss: 5 % for a released figure's 95 % interval, 2.5 % for each of the two a mean is built from. */
export type MissProbability = 0.05 | 0.025;

// The standard normal's 1 - α/2 quantiles, to 16 digits.
const NORMAL_QUANTILE: Readonly<Record<MissProbability, number>> = { 0.05: 1.959963984540054, 0.025: 2.241402727604947 };

// The scales are doubles a rounding away from the exact rationals the samplers use; this relative
// margin, far above that rounding, makes a half-width err wide by a step rather than narrow.
const ROUNDING_MARGIN = 1 + 1e-9;

/**
 * h such that P[|noise| > h] ≤ α: the release ± h holds the true value with probability at least
 * 1 - α. Worked out in grid steps (λ = `granularity`, 1 for a count), so h is a multiple of λ.
 * - Discrete Laplace of scale τ steps, p = e^{-1/τ}: P[Z = x] = (1 - p)/(1 + p)·p^{|x|}, so
 *   P[|Z| > q] = 2p^{q+1}/(1 + p) exactly, and the smallest q with that at most α is
 *   ⌈τ·ln(2/(α(1 + p)))⌉ - 1: the exact quantile.
 * - Discrete Gaussian of parameter σ steps: its normaliser Σ_x e^{-x²/2σ²} is σ√(2π)·(1 + 2Σ_k
 *   e^{-2π²σ²k²}) by Poisson summation, so at least σ√(2π); and the terms fall for x > 0, so
 *   Σ_{x>q} e^{-x²/2σ²} ≤ ∫_q^∞ e^{-t²/2σ²} dt. Together P[X > q] ≤ P[N(0, σ²) > q], and
 *   q = ⌈zσ⌉ with z the normal's 1 - α/2 quantile gives P[|X| > q] ≤ α. A bound, not the exact
 *   quantile; the test measures it within one step of it.
 */
export function noiseHalfWidth(noise: NoiseDistribution, granularity: number, alpha: MissProbability): number {
  if (noise.distribution === 'discrete_laplace') {
    const steps = (noise.scale / granularity) * ROUNDING_MARGIN;
    const p = Math.exp(-1 / steps);
    return granularity * Math.max(0, Math.ceil(steps * Math.log(2 / (alpha * (1 + p)))) - 1);
  }
  return granularity * Math.ceil(NORMAL_QUANTILE[alpha] * (noise.sigma / granularity) * ROUNDING_MARGIN);
}
