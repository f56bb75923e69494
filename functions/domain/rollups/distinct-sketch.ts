import { endianness } from 'node:os';

/**
 * Distinct count of members (pseudonymous users) that is exact while small and bounded when
 * large: a sorted set of explicit 64-bit hashes up to EXPLICIT_LIMIT members, HyperLogLog
 * (precision 14, 64-bit hashes, HLL++ register layout) above. The k-anonymity gate decides at
 * small counts, where the explicit form answers exactly; a month of users stays 16 KiB at most.
 *
 * Estimates of the HLL form use Ertl's improved estimator ("New cardinality estimation
 * algorithms for HyperLogLog sketches", 2017) instead of HLL++'s empirical bias tables: it is
 * unbiased over the whole range, falls back to linear counting behaviour where registers are
 * mostly empty, and needs no tables.
 */

export const EXPLICIT_LIMIT = 1024;
const P = 14;
const M = 1 << P;
/** Bits of the hash left after the register index; a register holds a rank in 0..Q+1. */
const Q = 64 - P;
const LOW_BITS = 32 - P;
/** The relative standard error of an HLL estimate (1.04 / sqrt(registers)), about 0.8 %. */
export const ESTIMATE_RELATIVE_ERROR = 1.04 / Math.sqrt(M);

/** The sketch object and its array's view and buffer objects, on the heap beside the array's bytes. */
const SKETCH_OBJECT_BYTES = 240;
const ARRAY_OBJECT_BYTES = 200;

const KIND_EXPLICIT = 1;
const KIND_SPARSE = 2;
const KIND_DENSE = 3;
const SPARSE_ENTRY = 3;

// Explicit hashes are written as the bytes of a BigUint64Array (a memcpy instead of a DataView
// call per hash); every Lambda and Node.js platform we run on is little-endian.
if (endianness() !== 'LE') throw new Error('distinct-sketch serialisation assumes a little-endian platform');

const HEX_PREFIX = /^[0-9a-f]{16}/i;

/**
 * The 64-bit hash of a member. Members are hex HMAC-SHA256 pseudonyms, already uniformly
 * random, so their first 16 hex digits are the hash and no hashing is spent. Anything else goes
 * through a 64-bit mix (two murmur3 finalised lanes) so arbitrary ids still spread evenly.
 */
export function memberHash(member: string): bigint {
  if (HEX_PREFIX.test(member)) return BigInt(`0x${member.slice(0, 16)}`);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < member.length; i++) {
    const c = member.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (BigInt(h1 >>> 0) << 32n) | BigInt(h2 >>> 0);
}

export interface DistinctEstimate {
  count: number;
  approximate: boolean;
}

export class DistinctSketch {
  /** Exactly one of the two is set: sorted unique hashes, or HLL registers. */
  private constructor(
    private readonly hashes: BigUint64Array | undefined,
    private readonly registers: Uint8Array | undefined,
    /**
     * How many registers hold each value, made on the first estimate and then kept up to date by
     * `mergeOwned`: a cached row's sketch is estimated after every batch, and counting its 16,384
     * registers each time was a fifth of a live batch's work.
     */
    private histogram?: Int32Array,
    /**
     * The estimate the store wrote beside a HyperLogLog sketch it read back (the count unmerged
     * answers show): a 30-day answer that sums local weeks estimates hundreds of stored day
     * sketches, and counting their registers again was a fifth of its time.
     */
    private stored?: DistinctEstimate,
  ) {}

  /** From hashes in any order, duplicates allowed. */
  static fromHashes(hashes: readonly bigint[] | BigUint64Array): DistinctSketch {
    // Filled by index: BigUint64Array.from goes through the iterator protocol element by element.
    const copy = new BigUint64Array(hashes.length);
    for (let i = 0; i < hashes.length; i++) copy[i] = hashes[i]!;
    return DistinctSketch.ofOwned(copy);
  }

  /** From hashes in any order, duplicates allowed, in an array the sketch may sort and keep. */
  private static ofOwned(hashes: BigUint64Array): DistinctSketch {
    if (hashes.length > 1) hashes.sort();
    // Compacted as 32-bit halves: no BigInt per element read.
    const words = wordsOf(hashes);
    let n = hashes.length > 0 ? 1 : 0;
    for (let i = 2; i < words.length; i += 2) {
      if (words[i] === words[2 * n - 2] && words[i + 1] === words[2 * n - 1]) continue;
      words[2 * n] = words[i]!;
      words[2 * n + 1] = words[i + 1]!;
      n++;
    }
    return DistinctSketch.ofSorted(n === hashes.length ? hashes : hashes.subarray(0, n));
  }

  /** The explicit hashes of sketches that all have them, one after another (unsorted, duplicates kept). */
  private static concatenatedHashes(sketches: readonly DistinctSketch[]): BigUint64Array {
    let length = 0;
    for (const sketch of sketches) length += sketch.hashes!.length;
    const all = new BigUint64Array(length);
    let at = 0;
    for (const sketch of sketches) {
      all.set(sketch.hashes!, at);
      at += sketch.hashes!.length;
    }
    return all;
  }

  /** The HyperLogLog registers of the union of sketches, explicit or not. */
  private static foldedRegisters(sketches: readonly DistinctSketch[]): Uint8Array {
    const registers = new Uint8Array(M);
    for (const sketch of sketches) {
      if (sketch.registers) foldInto(registers, sketch.registers);
      else addHashes(registers, sketch.hashes!);
    }
    return registers;
  }

  /** The union of many sketches at once (the pairwise `merge` would copy the growing union each time). */
  static union(sketches: readonly DistinctSketch[]): DistinctSketch {
    if (sketches.length === 1) return sketches[0]!;
    if (sketches.every((sketch) => sketch.hashes)) return DistinctSketch.ofOwned(DistinctSketch.concatenatedHashes(sketches));
    return new DistinctSketch(undefined, DistinctSketch.foldedRegisters(sketches));
  }

  /**
   * `union(sketches).estimate()`, without the union: a point that sums cells (a local day of 24
   * hours, a filter's values) shows only its count. Explicit hashes are counted in place as
   * 32-bit halves: reading a BigUint64Array element makes a BigInt, and deduplicating the
   * sorted hashes that way was most of a merge.
   */
  static unionEstimate(sketches: readonly DistinctSketch[]): DistinctEstimate {
    if (sketches.length === 1) return sketches[0]!.estimate();
    // Two explicit sets (a filter of two values) are counted by walking both, with no copy.
    if (sketches.length === 2 && sketches[0]!.hashes && sketches[1]!.hashes) {
      const distinct = distinctOfTwo(wordsOf(sketches[0]!.hashes), wordsOf(sketches[1]!.hashes));
      if (distinct <= EXPLICIT_LIMIT) return { count: distinct, approximate: false };
    }
    let registers: Uint8Array;
    if (sketches.every((sketch) => sketch.hashes)) {
      const all = DistinctSketch.concatenatedHashes(sketches).sort();
      const distinct = distinctSorted(all);
      if (distinct <= EXPLICIT_LIMIT) return { count: distinct, approximate: false };
      // Duplicates leave registers as they are.
      registers = new Uint8Array(M);
      addHashes(registers, all);
    } else {
      registers = DistinctSketch.foldedRegisters(sketches);
    }
    return { count: Math.round(ertlEstimate(histogramOf(registers))), approximate: true };
  }

  static ofMembers(members: Iterable<string>): DistinctSketch {
    return DistinctSketch.fromHashes(Array.from(members, memberHash));
  }

  get isExplicit(): boolean {
    return this.hashes !== undefined;
  }

  /**
   * The union. Answers this very sketch when `other` adds nothing, so a caller can tell by
   * identity that a stored sketch need not be written again.
   */
  merge(other: DistinctSketch): DistinctSketch {
    if (this.covers(other)) return this;
    if (this.hashes && other.hashes) {
      const [small, large] = this.hashes.length <= other.hashes.length ? [this.hashes, other.hashes] : [other.hashes, this.hashes];
      return DistinctSketch.ofSorted(mergeSorted(small, large));
    }
    return new DistinctSketch(undefined, DistinctSketch.foldedRegisters([this, other]));
  }

  /**
   * The union, reusing this sketch's registers when it is already HyperLogLog (no 16 KiB copy per
   * merge). For an owner that holds the only reference to this sketch, such as a store's cached
   * row: anyone else holding it would see it change. Answers this very sketch when `other` adds
   * nothing, as `merge` does.
   */
  mergeOwned(other: DistinctSketch): DistinctSketch {
    if (!this.registers) return this.merge(other);
    const grew = other.registers ? maxInto(this.registers, other.registers, this.histogram) : addHashes(this.registers, other.hashes!, this.histogram);
    if (!grew) return this;
    // The registers this sketch shares grew: what was stored beside them no longer counts them.
    this.stored = undefined;
    return new DistinctSketch(undefined, this.registers, this.histogram);
  }

  /** True when every member of `other` is already counted here. */
  private covers(other: DistinctSketch): boolean {
    const own = this.hashes;
    if (own) {
      if (!other.hashes) return false;
      let from = 0;
      for (let i = 0; i < other.hashes.length; i++) {
        from = indexOf(own, other.hashes[i]!, from);
        if (own[from] !== other.hashes[i]) return false;
      }
      return true;
    }
    const registers = this.registers!;
    if (other.registers) {
      for (let i = 0; i < M; i++) if (other.registers[i]! > registers[i]!) return false;
      return true;
    }
    const words = wordsOf(other.hashes!);
    for (let i = 0; i < words.length; i += 2) {
      const high = words[i + 1 - LOW_WORD]!;
      if (rankOf(high, words[i + LOW_WORD]!) > registers[registerIndex(high)]!) return false;
    }
    return true;
  }

  estimate(): DistinctEstimate {
    if (this.hashes) return { count: this.hashes.length, approximate: false };
    if (this.stored) return { ...this.stored };
    this.histogram ??= histogramOf(this.registers!);
    return { count: Math.round(ertlEstimate(this.histogram)), approximate: true };
  }

  /**
   * About how many bytes the sketch holds in memory, its arrays' objects included (measured on
   * Node 20): a cache of sketches is bounded by it, since one holds from tens of bytes (a few
   * explicit users) to 16 KiB (HyperLogLog registers).
   */
  get heldBytes(): number {
    // The whole buffer: an explicit set may be a view of a larger one (a merge's output).
    const array = this.hashes ? this.hashes.buffer.byteLength : this.registers!.byteLength;
    return SKETCH_OBJECT_BYTES + array + (this.histogram ? ARRAY_OBJECT_BYTES + this.histogram.byteLength : 0);
  }

  serialize(): Uint8Array {
    if (this.hashes) {
      const out = new Uint8Array(1 + this.hashes.length * 8);
      out[0] = KIND_EXPLICIT;
      out.set(new Uint8Array(this.hashes.buffer, this.hashes.byteOffset, this.hashes.byteLength), 1);
      return out;
    }
    const registers = this.registers!;
    let nonZero = 0;
    for (let i = 0; i < M; i++) if (registers[i] !== 0) nonZero++;
    // Just over the explicit limit most registers are empty: index/rank pairs are far smaller.
    if (nonZero * SPARSE_ENTRY < M) {
      const out = new Uint8Array(1 + nonZero * SPARSE_ENTRY);
      out[0] = KIND_SPARSE;
      let o = 1;
      for (let i = 0; i < M; i++) {
        const rank = registers[i]!;
        if (rank === 0) continue;
        out[o] = i & 0xff;
        out[o + 1] = i >>> 8;
        out[o + 2] = rank;
        o += SPARSE_ENTRY;
      }
      return out;
    }
    const out = new Uint8Array(1 + M);
    out[0] = KIND_DENSE;
    out.set(registers, 1);
    return out;
  }

  /**
   * Accepts a Buffer (pg) or a Uint8Array (PGlite), at any byte offset. `stored` is the estimate
   * written beside the sketch when it was stored (`estimate()` of the same bytes), answered again
   * instead of counted from the registers.
   */
  static deserialize(bytes: Uint8Array, stored?: DistinctEstimate): DistinctSketch {
    const body = bytes.subarray(1);
    switch (bytes[0]) {
      case KIND_EXPLICIT: {
        if (body.length % 8 !== 0) throw new Error('corrupt distinct sketch: explicit body is not whole hashes');
        // Copied so the 64-bit view is aligned whatever offset the driver's buffer has.
        const aligned = new Uint8Array(body.length);
        aligned.set(body);
        return new DistinctSketch(new BigUint64Array(aligned.buffer), undefined);
      }
      case KIND_SPARSE: {
        if (body.length % SPARSE_ENTRY !== 0) throw new Error('corrupt distinct sketch: sparse body is not whole entries');
        const registers = new Uint8Array(M);
        for (let o = 0; o < body.length; o += SPARSE_ENTRY) registers[body[o]! | (body[o + 1]! << 8)] = body[o + 2]!;
        return new DistinctSketch(undefined, registers, undefined, stored);
      }
      case KIND_DENSE:
        if (body.length !== M) throw new Error('corrupt distinct sketch: dense body has the wrong size');
        return new DistinctSketch(undefined, Uint8Array.from(body), undefined, stored);
      default:
        throw new Error(`corrupt distinct sketch: unknown kind ${bytes[0]}`);
    }
  }

  private static ofSorted(hashes: BigUint64Array): DistinctSketch {
    if (hashes.length <= EXPLICIT_LIMIT) return new DistinctSketch(hashes, undefined);
    const registers = new Uint8Array(M);
    addHashes(registers, hashes);
    return new DistinctSketch(undefined, registers);
  }
}

/**
 * Union of two sorted unique arrays. Deltas are small and stored sets large, so each element of
 * the small side is placed by binary search and the runs of the large side between them are
 * block-copied: O(small * log(large)) comparisons instead of a comparison per stored hash.
 */
function mergeSorted(small: BigUint64Array, large: BigUint64Array): BigUint64Array {
  const out = new BigUint64Array(small.length + large.length);
  let o = 0;
  let from = 0;
  for (let s = 0; s < small.length; s++) {
    const value = small[s]!;
    const lo = indexOf(large, value, from);
    out.set(large.subarray(from, lo), o);
    o += lo - from;
    from = lo;
    if (from < large.length && large[from] === value) continue;
    out[o++] = value;
  }
  out.set(large.subarray(from), o);
  o += large.length - from;
  return out.subarray(0, o);
}

/** The first position at or after `from` whose hash is not below `value` (binary search). */
function indexOf(sorted: BigUint64Array, value: bigint, from: number): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Which 32-bit half of a 64-bit word comes first in memory.
const LOW_WORD = new Uint8Array(new BigUint64Array([1n]).buffer)[0] === 1 ? 0 : 1;

/**
 * The hashes as 32-bit halves, hash i's high half at 2i + 1 - LOW_WORD and its low half at
 * 2i + LOW_WORD: taking each hash apart with BigInt arithmetic was most of a large row's merge.
 */
function wordsOf(hashes: BigUint64Array): Uint32Array {
  return new Uint32Array(hashes.buffer, hashes.byteOffset, hashes.length * 2);
}

/** How many distinct hashes a sorted array holds, compared as 32-bit halves. */
function distinctSorted(sorted: BigUint64Array): number {
  const words = wordsOf(sorted);
  let distinct = sorted.length > 0 ? 1 : 0;
  for (let i = 2; i < words.length; i += 2) if (words[i] !== words[i - 2] || words[i + 1] !== words[i - 1]) distinct++;
  return distinct;
}

/** How many distinct hashes two sorted unique arrays hold together, walked as 32-bit halves. */
function distinctOfTwo(a: Uint32Array, b: Uint32Array): number {
  const [high, low] = [1 - LOW_WORD, LOW_WORD];
  let [i, j, common] = [0, 0, 0];
  while (i < a.length && j < b.length) {
    const order = a[i + high]! - b[j + high]! || a[i + low]! - b[j + low]!;
    if (order === 0) common++;
    if (order <= 0) i += 2;
    if (order >= 0) j += 2;
  }
  return (a.length + b.length) / 2 - common;
}

/** A hash's register: the top P bits of its high half. */
const registerIndex = (high: number): number => high >>> LOW_BITS;

/** Its rank: the position of the first 1 bit in the Q bits after the index; Q + 1 when all are 0. */
function rankOf(high: number, low: number): number {
  const rest = high & ((1 << LOW_BITS) - 1);
  return rest !== 0 ? Math.clz32(rest) - P + 1 : low !== 0 ? LOW_BITS + Math.clz32(low) + 1 : Q + 1;
}

/**
 * Adds the hashes to the registers (and the histogram of their values, if given); answers whether
 * any register grew.
 */
function addHashes(registers: Uint8Array, hashes: BigUint64Array, histogram?: Int32Array): boolean {
  const words = wordsOf(hashes);
  let grew = false;
  for (let i = 0; i < words.length; i += 2) {
    const high = words[i + 1 - LOW_WORD]!;
    const rank = rankOf(high, words[i + LOW_WORD]!);
    const index = registerIndex(high);
    if (rank > registers[index]!) {
      if (histogram) moveInHistogram(histogram, registers[index]!, rank);
      registers[index] = rank;
      grew = true;
    }
  }
  return grew;
}

/** Answers whether any register of `target` grew (keeping its histogram, if given). */
function maxInto(target: Uint8Array, source: Uint8Array, histogram?: Int32Array): boolean {
  let grew = false;
  for (let i = 0; i < M; i++) {
    if (source[i]! > target[i]!) {
      if (histogram) moveInHistogram(histogram, target[i]!, source[i]!);
      target[i] = source[i]!;
      grew = true;
    }
  }
  return grew;
}

/**
 * `maxInto` four registers at a time, for a union that needs no record of what grew (a local
 * week's users fold some thirty 16 KiB sketches, most of its time register by register). A rank
 * is at most Q + 1 < 128, so each byte's top bit is free: a byte of (a | 0x80) - b keeps it
 * exactly where a >= b, with no borrow into the next byte.
 */
function foldInto(target: Uint8Array, source: Uint8Array): void {
  // Registers always have a buffer of their own (deserialize copies them), so the views are aligned.
  const into = new Uint32Array(target.buffer, target.byteOffset, M / 4);
  const from = new Uint32Array(source.buffer, source.byteOffset, M / 4);
  for (let i = 0; i < into.length; i++) {
    const a = into[i]!;
    const b = from[i]!;
    const keep = Math.imul((((a | 0x80808080) - b) & 0x80808080) >>> 7, 0xff);
    into[i] = (a & keep) | (b & ~keep);
  }
}

function moveInHistogram(histogram: Int32Array, from: number, to: number): void {
  histogram[from]!--;
  histogram[to]!++;
}

function histogramOf(registers: Uint8Array): Int32Array {
  const histogram = new Int32Array(Q + 2);
  for (let i = 0; i < M; i++) histogram[registers[i]!]!++;
  return histogram;
}

function ertlEstimate(histogram: Int32Array): number {
  let z = M * tau(1 - histogram[Q + 1]! / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
  z += M * sigma(histogram[0]! / M);
  return (M * M) / (2 * Math.LN2 * z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}
