import { noiseHalfWidth, type MissProbability } from '../../../functions/domain/privacy/noise/noise-intervals';

/** P[|X| > h] for the distribution on ℤ with P[x] ∝ weight(|x|), summed out to `last`. */
function tailBeyond(weight: (magnitude: number) => number, last: number, h: number): number {
  if (h < 0) return 1;
  let mass = weight(0);
  let beyond = 0;
  for (let x = 1; x <= last; x++) {
    mass += 2 * weight(x);
    if (x > h) beyond += 2 * weight(x);
  }
  return beyond / mass;
}

const ALPHAS: MissProbability[] = [0.05, 0.025];

describe('the half-width of an interval that holds the noise with probability 1 - α', () => {
  it.each([0.2, 1, 1 / 0.15, 40, 180.5])('is the exact quantile of the discrete Laplace of scale %f: the tail beyond h is at most α, beyond h - 1 more', (scale) => {
    const weight = (x: number) => Math.exp(-x / scale);
    const last = Math.ceil(80 * scale) + 10;
    for (const alpha of ALPHAS) {
      const h = noiseHalfWidth({ distribution: 'discrete_laplace', scale }, 1, alpha);

      expect(tailBeyond(weight, last, h)).toBeLessThanOrEqual(alpha);
      expect(tailBeyond(weight, last, h - 1)).toBeGreaterThan(alpha);
    }
  });

  it.each([0.5, 4, 30, 1_000, 40_000])('bounds the discrete Gaussian of parameter σ² = %f within one step of its exact quantile', (sigmaSquared) => {
    const weight = (x: number) => Math.exp(-(x * x) / (2 * sigmaSquared));
    const last = Math.ceil(40 * Math.sqrt(sigmaSquared)) + 10;
    for (const alpha of ALPHAS) {
      const h = noiseHalfWidth({ distribution: 'discrete_gaussian', sigma: Math.sqrt(sigmaSquared) }, 1, alpha);

      expect(tailBeyond(weight, last, h)).toBeLessThanOrEqual(alpha);
      expect(tailBeyond(weight, last, h - 2)).toBeGreaterThan(alpha);
    }
  });

  it('works in grid steps: on a grid of λ = 2^-2, the half-width is λ times that of the noise in steps', () => {
    const onGrid = noiseHalfWidth({ distribution: 'discrete_laplace', scale: 10 }, 0.25, 0.05);
    const inSteps = noiseHalfWidth({ distribution: 'discrete_laplace', scale: 40 }, 1, 0.05);

    expect(onGrid).toBe(0.25 * inSteps);
    expect(noiseHalfWidth({ distribution: 'discrete_gaussian', sigma: 10 }, 0.25, 0.05)).toBe(0.25 * noiseHalfWidth({ distribution: 'discrete_gaussian', sigma: 40 }, 1, 0.05));
  });
});
