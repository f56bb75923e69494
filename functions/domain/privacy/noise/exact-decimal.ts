import type { Rational } from './exact-samplers';

/**
 * ε and δ read as the decimals people write. The double 0.1 is a little above 1/10, so summed
 * exactly as doubles, ten spends of ε = 0.1 would overrun a budget of 1; read as decimals they
 * fill it. For that reading to stay honest the mechanisms spend the decimal too: the discrete
 * Laplace scale is Δ/ε with ε the decimal, so the release is exactly ε-DP for that ε.
 */
export interface ExactDecimal {
  /** The value is units / 10^places. */
  readonly units: bigint;
  readonly places: number;
}

/** The shortest decimal that reads back as x (JavaScript's own number-to-string), exactly. */
export function decimalOf(x: number): ExactDecimal {
  if (!Number.isFinite(x)) throw new RangeError(`only a finite number is a decimal, got ${x}`);
  const [mantissa = '0', exponentText = '0'] = String(x).split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const places = fraction.length - Number(exponentText);
  const units = BigInt(whole + fraction);
  return places >= 0 ? { units, places } : { units: units * 10n ** BigInt(-places), places: 0 };
}

export function decimalRational(x: number): Rational {
  const { units, places } = decimalOf(x);
  if (units <= 0n) throw new RangeError(`a positive number is needed, got ${x}`);
  return { numerator: units, denominator: 10n ** BigInt(places) };
}

/** a - b, exactly. */
export function subtractDecimal(a: ExactDecimal, b: ExactDecimal): ExactDecimal {
  const places = Math.max(a.places, b.places);
  return { units: a.units * 10n ** BigInt(places - a.places) - b.units * 10n ** BigInt(places - b.places), places };
}

/** The largest double whose decimal reading is at or below the value. */
export function decimalToNumberRoundedDown(value: ExactDecimal): number {
  const negative = value.units < 0n;
  const digits = (negative ? -value.units : value.units).toString().padStart(value.places + 1, '0');
  const text = `${negative ? '-' : ''}${digits.slice(0, digits.length - value.places)}.${digits.slice(digits.length - value.places)}0`;
  let result = Number(text);
  while (subtractDecimal(decimalOf(result), value).units > 0n) result = nextDown(result);
  return result === 0 ? 0 : result;
}

function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits - 1n : bits + 1n);
  return view.getFloat64(0);
}
