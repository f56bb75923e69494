import { decimalOf, decimalRational, decimalToNumberRoundedDown, subtractDecimal } from '../../../functions/domain/privacy/noise/exact-decimal';

describe('ε and δ as the decimals written', () => {
  it('reads a double as the shortest decimal that prints for it, exponents included', () => {
    expect([0.1, 1e-7, 1.5e-10, 123.456, 1e21, -0.25, 0].map(decimalOf)).toEqual([
      { units: 1n, places: 1 },
      { units: 1n, places: 7 },
      { units: 15n, places: 11 },
      { units: 123456n, places: 3 },
      { units: 10n ** 21n, places: 0 },
      { units: -25n, places: 2 },
      { units: 0n, places: 0 },
    ]);
    expect(decimalRational(0.3)).toEqual({ numerator: 3n, denominator: 10n });
    expect(() => decimalRational(0)).toThrow(RangeError);
    expect(() => decimalOf(Number.NaN)).toThrow(RangeError);
  });

  it('subtracts exactly and turns the result into a double no larger than it', () => {
    let left = decimalOf(1);
    for (let i = 0; i < 10; i++) left = subtractDecimal(left, decimalOf(0.1));
    expect(left.units).toBe(0n);
    const third = subtractDecimal(decimalOf(1), decimalOf(0.3333333333333333));
    expect(decimalToNumberRoundedDown(third)).toBe(0.6666666666666667);
    expect(decimalToNumberRoundedDown(subtractDecimal(decimalOf(0.7), decimalOf(0.2)))).toBe(0.5);
    // 1/3 to 30 places has no double of its own: the one below it is chosen.
    const long = { units: 10n ** 30n / 3n, places: 30 };
    const down = decimalToNumberRoundedDown(long);
    expect(subtractDecimal(decimalOf(down), long).units <= 0n).toBe(true);
  });
});
