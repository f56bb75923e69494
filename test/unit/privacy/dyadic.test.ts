import {
  addDyadic,
  ceilDivPowerOfTwo,
  dyadic,
  powerOfTwoExponent,
  rationalOf,
  roundToMultipleOfPowerOfTwo,
  toNumber,
  toNumberRoundedUp,
} from '../../../functions/domain/privacy/noise/dyadic';

describe('exact values of doubles', () => {
  it('turns each double into its exact value and back', () => {
    for (const x of [0, 1, -1, 0.1, 1 / 3, -1e300, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** -1022, 123456.789, -2.5e-310]) {
      expect(toNumber(dyadic(x))).toBe(x);
    }
    expect(() => dyadic(Number.NaN)).toThrow(RangeError);
    expect(() => dyadic(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('adds without rounding where a float sum rounds', () => {
    let exact = dyadic(0);
    let float = 0;
    for (let i = 0; i < 10; i++) {
      exact = addDyadic(exact, dyadic(0.1));
      float += 0.1;
    }
    expect(float).not.toBe(1);
    expect(exact.timesTwoTo1074).toBe(10n * dyadic(0.1).timesTwoTo1074);
    // 0.1 is a little above 1/10, so ten of them are a little above 1: the nearest double is 1.
    expect(toNumber(exact)).toBe(1);
    expect(toNumberRoundedUp(exact)).toBeGreaterThan(1);
  });

  it('gives a double as a rational in lowest terms', () => {
    expect(rationalOf(0.5)).toEqual({ numerator: 1n, denominator: 2n });
    expect(rationalOf(3)).toEqual({ numerator: 3n, denominator: 1n });
    expect(rationalOf(0.1)).toEqual({ numerator: 3602879701896397n, denominator: 2n ** 55n });
    expect(() => rationalOf(0)).toThrow(RangeError);
  });

  it('knows a power of two', () => {
    expect([1, 2, 0.125, 2 ** -1074, 2 ** 1023].map(powerOfTwoExponent)).toEqual([0, 1, -3, -1074, 1023]);
    expect([3, 0.3, 0, -2, Number.POSITIVE_INFINITY].map(powerOfTwoExponent)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('rounds to a grid of 2^k with halves upwards, negatives too, and divides upwards', () => {
    const grid = (x: number) => roundToMultipleOfPowerOfTwo(dyadic(x), -2);
    expect([0.3, 0.375, 0.125, -0.125, -0.126, -1, 1e-300].map(grid)).toEqual([1n, 2n, 1n, 0n, -1n, -4n, 0n]);
    expect(ceilDivPowerOfTwo(dyadic(1), -2)).toBe(4n);
    expect(ceilDivPowerOfTwo(dyadic(1.01), -2)).toBe(5n);
    expect(ceilDivPowerOfTwo(dyadic(3), 1)).toBe(2n);
  });
});
