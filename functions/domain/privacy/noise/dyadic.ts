import { bitLength } from './random-bits';
import type { Rational } from './exact-samplers';

/**
 * Exact arithmetic on doubles. Every finite double is an integer multiple of 2^-1074 (the smallest
 * subnormal), so a BigInt count of those units holds it, and sums of them, exactly. Sensitivity
 * needs that: a floating-point sum of clamped values rounds, and its rounding can move the sum by
 * more than the clamp bound when one user is added (Casacuberta et al., "Widespread
 * Underestimation of Sensitivity in Differentially Private Libraries", CCS 2022).
 */
export interface Dyadic {
  /** The value times 2^1074, an integer. */
  readonly timesTwoTo1074: bigint;
}

const SCALE_BITS = 1074;

export function dyadic(x: number): Dyadic {
  if (!Number.isFinite(x)) throw new RangeError(`only a finite number has an exact value, got ${x}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const exponentBits = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  // Normal: (2^52 + fraction)·2^(e - 1075), i.e. (2^52 + fraction)·2^(e - 1) units; subnormal: fraction units.
  const magnitude = exponentBits === 0 ? fraction : (fraction | (1n << 52n)) << BigInt(exponentBits - 1);
  return { timesTwoTo1074: high >>> 31 === 1 ? -magnitude : magnitude };
}

export function addDyadic(a: Dyadic, b: Dyadic): Dyadic {
  return { timesTwoTo1074: a.timesTwoTo1074 + b.timesTwoTo1074 };
}

/** A positive double as an exact rational in lowest terms (powers of two cancelled). */
export function rationalOf(x: number): Rational {
  if (!(x > 0)) throw new RangeError(`a positive finite number is needed, got ${x}`);
  const units = dyadic(x).timesTwoTo1074;
  // units & -units isolates the lowest set bit: the power of two that cancels.
  const cancelled = BigInt(Math.min(SCALE_BITS, bitLength(units & -units) - 1));
  const numerator = units >> cancelled;
  const shift = BigInt(SCALE_BITS) - cancelled;
  return { numerator, denominator: 1n << shift };
}

/** The nearest double (for display; a result below 2^-1022 may be rounded twice). */
export function toNumber(value: Dyadic): number {
  const units = value.timesTwoTo1074;
  const magnitude = units < 0n ? -units : units;
  const shift = Math.max(0, bitLength(magnitude) - 64);
  let top = magnitude >> BigInt(shift);
  // A sticky bit keeps a value just above a tie from being rounded as the tie.
  if (shift > 0 && magnitude % (1n << BigInt(shift)) !== 0n) top |= 1n;
  const result = timesPowerOfTwo(Number(top), shift - SCALE_BITS);
  return units < 0n ? -result : result;
}

/** The smallest double at or above the exact value: for a sensitivity, which may only grow. */
export function toNumberRoundedUp(value: Dyadic): number {
  const nearest = toNumber(value);
  return dyadic(nearest).timesTwoTo1074 >= value.timesTwoTo1074 ? nearest : nextUp(nearest);
}

/** Whether x is 2^k for an integer k (a grid granularity must be, for exact rounding). */
export function powerOfTwoExponent(x: number): number | undefined {
  if (!(x > 0) || !Number.isFinite(x)) return undefined;
  const units = dyadic(x).timesTwoTo1074;
  const bits = bitLength(units);
  return units === 1n << BigInt(bits - 1) ? bits - 1 - SCALE_BITS : undefined;
}

/** ⌊value / 2^k + 1/2⌋: round to the nearest multiple of 2^k, halves upwards, exactly. */
export function roundToMultipleOfPowerOfTwo(value: Dyadic, exponent: number): bigint {
  const shift = BigInt(exponent + SCALE_BITS);
  const half = shift > 0n ? 1n << (shift - 1n) : 0n;
  // >> on a BigInt floors, negatives included.
  return (value.timesTwoTo1074 + half) >> shift;
}

/** ⌈value / 2^k⌉ exactly. */
export function ceilDivPowerOfTwo(value: Dyadic, exponent: number): bigint {
  return -(-value.timesTwoTo1074 >> BigInt(exponent + SCALE_BITS));
}

function powerOfTwo(exponent: number): number {
  // Built from its bits, so it is exact whatever the engine's `**` does; normal range only.
  const view = new DataView(new ArrayBuffer(8));
  view.setUint16(0, (exponent + 1023) << 4);
  return view.getFloat64(0);
}

/** x·2^k, exact unless the result leaves the normal range. */
export function timesPowerOfTwo(x: number, exponent: number): number {
  // In steps that keep intermediate results normal, so only the last multiplication can round.
  let result = x;
  let remaining = exponent;
  while (remaining < -1000) {
    result *= powerOfTwo(-1000);
    remaining += 1000;
  }
  while (remaining > 1000) {
    result *= powerOfTwo(1000);
    remaining -= 1000;
  }
  return result * powerOfTwo(remaining);
}

function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}
