import {
  bernoulliExpMinus,
  integerSquareRoot,
  rational,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
} from '../../../functions/domain/privacy/noise/exact-samplers';
import {
  cryptoRandom,
  discreteGaussianMoments,
  discreteLaplaceMoments,
  draw,
  expectNoiseMatches,
  expectWithinStandardErrors,
} from './noise-statistics';

// Each statistical check: 6 standard errors, false failure ≈ 2e-9 (noise-statistics.ts).
const N = 20_000;

describe('Bernoulli(exp(-γ)) for rational γ', () => {
  it.each([
    [1n, 3n],
    [1n, 1n],
    [5n, 2n],
    [22n, 7n],
  ])('comes up with frequency exp(-%i/%i) over 20 000 draws, within 6 standard errors', (numerator, denominator) => {
    const random = cryptoRandom();
    const p = Math.exp(-Number(numerator) / Number(denominator));
    const heads = draw(N, () => bernoulliExpMinus(random, rational(numerator, denominator))).filter(Boolean).length;
    expectWithinStandardErrors(heads / N, p, Math.sqrt((p * (1 - p)) / N));
  });

  it('is certain for γ = 0', () => {
    const random = cryptoRandom();
    expect(draw(1000, () => bernoulliExpMinus(random, rational(0n))).every(Boolean)).toBe(true);
  });

  it('refuses a negative or a zero-denominator rational', () => {
    expect(() => rational(-1n, 2n)).toThrow(RangeError);
    expect(() => rational(1n, 0n)).toThrow(RangeError);
  });
});

describe('the discrete Laplace sampler', () => {
  it.each([
    ['2', rational(2n), 2],
    ['10/3', rational(10n, 3n), 10 / 3],
    ['1/2', rational(1n, 2n), 1 / 2],
  ])('at scale %s has mean 0, the pmf variance and symmetric signs over 20 000 draws', (_label, scale, scaleValue) => {
    const random = cryptoRandom();
    const noise = draw(N, () => Number(sampleDiscreteLaplace(random, scale)));
    expect(noise.every(Number.isInteger)).toBe(true);
    expectNoiseMatches(noise, discreteLaplaceMoments(scaleValue));
  });

  it('has the closed-form variance 2e^{-1/t}/(1 - e^{-1/t})² that the mechanisms report', () => {
    for (const t of [0.5, 2, 10 / 3, 50]) {
      const closedForm = (2 * Math.exp(-1 / t)) / (1 - Math.exp(-1 / t)) ** 2;
      expect(discreteLaplaceMoments(t).variance).toBeCloseTo(closedForm, 8);
    }
  });

  it('would be caught at a scale 10 % off', () => {
    // Variance at scale 2.2 (9.52) is 21 % above that at 2 (7.84); the check's 6 standard errors are
    // about 10 %, so a correct sampler at 2.2 still passes it with probability 5e-10 (6.1 of its own SEs).
    const random = cryptoRandom();
    const noise = draw(N, () => Number(sampleDiscreteLaplace(random, rational(11n, 5n))));
    const { variance, fourthMoment } = discreteLaplaceMoments(2);
    const meanSquare = noise.reduce((acc, x) => acc + x * x, 0) / N;
    expect(Math.abs(meanSquare - variance)).toBeGreaterThan(6 * Math.sqrt((fourthMoment - variance ** 2) / N));
  });
});

describe('the discrete Gaussian sampler', () => {
  it.each([
    ['1/10', rational(1n, 10n), 1 / 10],
    ['25', rational(25n), 25],
    ['1000/7', rational(1000n, 7n), 1000 / 7],
  ])('with σ² = %s has mean 0, the pmf variance and symmetric signs over 20 000 draws', (_label, sigmaSquared, value) => {
    const random = cryptoRandom();
    const noise = draw(N, () => Number(sampleDiscreteGaussian(random, sigmaSquared)));
    expectNoiseMatches(noise, discreteGaussianMoments(value));
  });

  it('is discrete where that matters: with σ² = 1/10 its variance is 0.0135, not 0.1', () => {
    expect(discreteGaussianMoments(0.1).variance).toBeCloseTo((2 * Math.exp(-5)) / (1 + 2 * Math.exp(-5)), 6);
  });
});

describe('the integer square root', () => {
  it('is ⌊√n⌋, beyond the precision of a double too', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 99n, 100n, 10n ** 40n - 1n, 10n ** 40n]) {
      const root = integerSquareRoot(n);
      expect(root * root <= n && (root + 1n) * (root + 1n) > n).toBe(true);
    }
    expect(integerSquareRoot(10n ** 40n)).toBe(10n ** 20n);
    expect(() => integerSquareRoot(-1n)).toThrow(RangeError);
  });
});
