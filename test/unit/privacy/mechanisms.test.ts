import { dyadic } from '../../../functions/domain/privacy/noise/dyadic';
import {
  discreteGaussianMechanism,
  discreteGaussianVariance,
  discreteLaplaceMechanism,
  discreteLaplaceVariance,
  gaussianMechanism,
  gaussianVariance,
  laplaceMechanism,
} from '../../../functions/domain/privacy/noise/mechanisms';
import type { Rational } from '../../../functions/domain/privacy/noise/exact-samplers';
import { cryptoRandom, discreteGaussianMoments, discreteLaplaceMoments, draw, expectNoiseMatches } from './noise-statistics';

// Each statistical check: 6 standard errors, false failure ≈ 2e-9 (noise-statistics.ts).
const N = 20_000;
const asNumber = (r: Rational) => Number(r.numerator) / Number(r.denominator);

describe('the discrete Laplace mechanism for counts', () => {
  it.each([
    [1, 0.5],
    [2, 0.3],
  ])('with Δ = %i, ε = %f adds noise of scale Δ/ε: mean 0, its variance and symmetric over 20 000 draws', (sensitivity, epsilon) => {
    const random = cryptoRandom();
    const releases = draw(N, () => discreteLaplaceMechanism(random, { value: 1000, sensitivity, epsilon }));
    expect(releases.every((r) => Number.isInteger(r.value))).toBe(true);
    const moments = discreteLaplaceMoments(sensitivity / epsilon);
    expectNoiseMatches(releases.map((r) => r.value - 1000), moments);
    expect(releases[0]?.spent).toEqual({ epsilon, delta: 0 });
    expect(releases[0]?.variance).toBeCloseTo(moments.variance, 8);
    expect(releases[0]?.standardDeviation).toBeCloseTo(Math.sqrt(moments.variance), 8);
  });

  it('refuses a count or a sensitivity that is no whole number, and an ε that is no positive number', () => {
    const random = cryptoRandom();
    expect(() => discreteLaplaceMechanism(random, { value: 1.5, sensitivity: 1, epsilon: 1 })).toThrow(RangeError);
    expect(() => discreteLaplaceMechanism(random, { value: 1, sensitivity: 0, epsilon: 1 })).toThrow(RangeError);
    for (const epsilon of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => discreteLaplaceMechanism(random, { value: 1, sensitivity: 1, epsilon })).toThrow(RangeError);
    }
  });
});

describe('the discrete Gaussian mechanism for counts', () => {
  it('adds noise of the calibrated σ²: mean 0, the pmf variance and symmetric over 20 000 draws', () => {
    const random = cryptoRandom();
    const query = { value: 40, sensitivity: 1, epsilon: 1, delta: 1e-6 };
    const releases = draw(N, () => discreteGaussianMechanism(random, query));
    const moments = discreteGaussianMoments(asNumber(gaussianVariance(1, 1e-6, 1)));
    expectNoiseMatches(releases.map((r) => r.value - 40), moments);
    expect(releases[0]?.spent).toEqual({ epsilon: 1, delta: 1e-6 });
    expect(releases[0]?.variance).toBeCloseTo(moments.variance, 8);
  });

  it('refuses δ = 0, which no Gaussian noise can give, and δ ≥ 1', () => {
    const random = cryptoRandom();
    for (const delta of [0, 1, Number.NaN]) {
      expect(() => discreteGaussianMechanism(random, { value: 1, sensitivity: 1, epsilon: 1, delta })).toThrow(RangeError);
    }
  });
});

describe('the Gaussian calibration through concentrated DP', () => {
  it.each([
    [0.1, 1e-5],
    [0.5, 1e-6],
    [0.9, 1e-9],
    [3, 1e-6],
  ])('at ε = %f, δ = %f gives a σ² whose zCDP-to-DP conversion spends no more than ε', (epsilon, delta) => {
    for (const sensitivity of [1, 3]) {
      const sigmaSquared = asNumber(gaussianVariance(epsilon, delta, sensitivity));
      const rho = sensitivity ** 2 / (2 * sigmaSquared);
      expect(rho + 2 * Math.sqrt(rho * Math.log(1 / delta))).toBeLessThanOrEqual(epsilon);
      // And it wastes little: 1e-6 relative above the exact solution at most.
      expect(rho + 2 * Math.sqrt(rho * Math.log(1 / delta))).toBeGreaterThan(epsilon * (1 - 1e-6));
    }
  });

  it.each([
    [0.1, 1e-5],
    [0.5, 1e-6],
    [0.9, 1e-9],
  ])('at ε = %f, δ = %f is within 5 %% of the classical σ = Δ√(2 ln(1.25/δ))/ε, valid there', (epsilon, delta) => {
    const classical = (2 * Math.log(1.25 / delta)) / epsilon ** 2;
    const ratio = asNumber(gaussianVariance(epsilon, delta, 1)) / classical;
    expect(ratio).toBeGreaterThan(0.95);
    expect(ratio).toBeLessThan(1.05);
  });

  it('reports the discrete Gaussian variance: summed below σ² = 16, σ² itself above, where they agree to 1e-15', () => {
    expect(discreteGaussianVariance(0.1)).toBeCloseTo(discreteGaussianMoments(0.1).variance, 12);
    expect(discreteGaussianVariance(1)).toBeLessThan(1 - 1e-7);
    expect(Math.abs(discreteGaussianVariance(16) - 16) / 16).toBeLessThan(1e-15);
    expect(Math.abs(discreteGaussianMoments(16.5).variance - 16.5) / 16.5).toBeLessThan(1e-15);
    expect(discreteGaussianVariance(16.5)).toBe(16.5);
    expect(discreteLaplaceVariance(2)).toBeCloseTo(discreteLaplaceMoments(2).variance, 8);
  });
});

describe('the Laplace and Gaussian mechanisms for real values, on a grid', () => {
  const granularity = 2 ** -3;

  it('Laplace: rounds to the grid and adds λ·(discrete Laplace of scale ⌈Δ/λ⌉/ε), over 20 000 draws', () => {
    const random = cryptoRandom();
    // 0.3 rounds to 0.25; Δ/λ = 8 grid units.
    const releases = draw(N, () => laplaceMechanism(random, { value: 0.3, sensitivity: 1, epsilon: 1, granularity }));
    const units = releases.map((r) => (r.value - 0.25) / granularity);
    expect(units.every(Number.isInteger)).toBe(true);
    const moments = discreteLaplaceMoments(8);
    expectNoiseMatches(units, moments);
    expect(releases[0]).toMatchObject({ spent: { epsilon: 1, delta: 0 }, granularity });
    expect(releases[0]?.variance).toBeCloseTo(granularity ** 2 * moments.variance, 8);
  });

  it('Gaussian: rounds to the grid and adds λ·(discrete Gaussian calibrated for ⌈Δ/λ⌉), over 20 000 draws', () => {
    const random = cryptoRandom();
    // -12.7 rounds to -12.75 (-102 units); Δ = 0.5 is 4 grid units.
    const query = { value: -12.7, sensitivity: 0.5, epsilon: 1, delta: 1e-5, granularity };
    const releases = draw(N, () => gaussianMechanism(random, query));
    const units = releases.map((r) => r.value / granularity + 102);
    expect(units.every(Number.isInteger)).toBe(true);
    const moments = discreteGaussianMoments(asNumber(gaussianVariance(1, 1e-5, 4)));
    expectNoiseMatches(units, moments);
    expect(releases[0]?.spent).toEqual({ epsilon: 1, delta: 1e-5 });
    expect(releases[0]?.variance).toBeCloseTo(granularity ** 2 * moments.variance, 8);
  });

  it('answers only on the grid, whatever the input, so no output reveals which input it came from', () => {
    const random = cryptoRandom();
    for (const value of [0.1, -7.3333, 1e-300, 123456.789, dyadic(2 ** -40), 1e15]) {
      for (const g of [2 ** -10, 0.5, 4]) {
        const laplace = laplaceMechanism(random, { value, sensitivity: 1, epsilon: 0.7, granularity: g });
        const gaussian = gaussianMechanism(random, { value, sensitivity: 1, epsilon: 0.7, delta: 1e-6, granularity: g });
        expect(Number.isInteger(laplace.value / g)).toBe(true);
        expect(Number.isInteger(gaussian.value / g)).toBe(true);
      }
    }
  });

  it('refuses a granularity that is no power of two, and a sensitivity that is no positive number', () => {
    const random = cryptoRandom();
    for (const g of [0.3, 3, 0, -0.5, Number.NaN]) {
      expect(() => laplaceMechanism(random, { value: 1, sensitivity: 1, epsilon: 1, granularity: g })).toThrow(RangeError);
    }
    for (const sensitivity of [0, -1, Number.POSITIVE_INFINITY]) {
      expect(() => gaussianMechanism(random, { value: 1, sensitivity, epsilon: 1, delta: 1e-6, granularity: 1 })).toThrow(RangeError);
    }
  });
});

describe('the randomness of every mechanism', () => {
  it('comes from the byte source alone: Math.random is never called', () => {
    const random = cryptoRandom();
    const original = Math.random;
    let called = false;
    Math.random = () => {
      called = true;
      throw new Error('Math.random called');
    };
    try {
      for (let i = 0; i < 200; i++) {
        discreteLaplaceMechanism(random, { value: 3, sensitivity: 1, epsilon: 0.5 });
        discreteGaussianMechanism(random, { value: 3, sensitivity: 1, epsilon: 0.5, delta: 1e-6 });
        laplaceMechanism(random, { value: 0.3, sensitivity: 1, epsilon: 0.5, granularity: 0.25 });
        gaussianMechanism(random, { value: 0.3, sensitivity: 1, epsilon: 0.5, delta: 1e-6, granularity: 0.25 });
      }
    } finally {
      Math.random = original;
    }
    expect(called).toBe(false);
  });
});
