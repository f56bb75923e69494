/**
 * DDSketch (Masson, Rim, Lee 2019) with 1% relative accuracy: a quantile it answers is within
 * 1% of the true value at that rank, for values of either sign and zero (mood valence is
 * -1..1). Bins are logarithmic buckets of magnitude, kept sparse in maps because the series we
 * store hold few distinct magnitudes per bucket. Values of magnitude below MIN_INDEXABLE count
 * as zero, which also bounds the number of bins (about 37,000 at most over all doubles), so no
 * collapsing is needed.
 */

export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
const MIN_INDEXABLE = 1e-9;
const FORMAT_VERSION = 1;
/** The sketch object with its maps, and what each bin adds (held bytes, measured on Node 20). */
const SKETCH_BYTES = 450;
const BIN_BYTES = 44;

export class QuantileSketch {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private zeroCount = 0;
  // Created on first use: most stored sketches (a minute of one group) hold a few values of one sign.
  private positive: Map<number, number> | undefined;
  private negative: Map<number, number> | undefined;
  // The bins' keys in ascending order, kept until a bin is added: a writer reads the quantiles
  // of a row and then serialises it, and each would sort them otherwise; and a cached row of live
  // traffic, merged with every batch, mostly gains counts in bins it has (sorting its keys again
  // for each batch took 70 ms of a profile of 60,000 live events, more than writing the bins).
  private sortedKeys: { readonly positive: readonly number[]; readonly negative: readonly number[] } | undefined;

  add(value: number): this {
    if (!Number.isFinite(value)) throw new Error(`cannot add ${value} to a quantile sketch`);
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value > MIN_INDEXABLE) this.increment((this.positive ??= new Map<number, number>()), binOf(value), 1);
    else if (value < -MIN_INDEXABLE) this.increment((this.negative ??= new Map<number, number>()), binOf(-value), 1);
    else this.zeroCount++;
    return this;
  }

  /** Adds `other` into this sketch. */
  merge(other: QuantileSketch): this {
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.zeroCount += other.zeroCount;
    if (other.positive) {
      const bins = (this.positive ??= new Map<number, number>());
      for (const [bin, n] of other.positive) this.increment(bins, bin, n);
    }
    if (other.negative) {
      const bins = (this.negative ??= new Map<number, number>());
      for (const [bin, n] of other.negative) this.increment(bins, bin, n);
    }
    return this;
  }

  /** The value at rank q * (count - 1), within the relative accuracy; undefined when empty. */
  quantile(q: number): number | undefined {
    return this.quantiles([q])[0];
  }

  /** The quantiles a metric point reports (and hour and day rows keep); undefined when empty. */
  pointQuantiles(): { p50: number; p95: number } | undefined {
    const [p50, p95] = this.quantiles([0.5, 0.95]);
    return p50 === undefined || p95 === undefined ? undefined : { p50, p95 };
  }

  /** Several quantiles in one ascending walk over the bins. */
  quantiles(qs: readonly number[]): (number | undefined)[] {
    for (const q of qs) if (q < 0 || q > 1 || Number.isNaN(q)) throw new RangeError(`quantile must be in 0..1, got ${q}`);
    if (this.count === 0) return qs.map(() => undefined);
    const answers = new Array<number | undefined>(qs.length);
    const order = qs.map((q, index) => ({ rank: q * (this.count - 1), index })).sort((a, b) => a.rank - b.rank);
    let next = 0;
    let seen = 0;
    const settle = (value: number) => {
      while (next < order.length && seen > order[next]!.rank) answers[order[next++]!.index] = value;
    };
    const keys = this.sorted();
    // Ascending value order: large negative magnitudes first (the negative keys backwards), then zero, then positives.
    for (let i = keys.negative.length - 1; i >= 0; i--) {
      seen += this.negative!.get(keys.negative[i]!)!;
      settle(this.clamp(-valueOf(keys.negative[i]!)));
    }
    seen += this.zeroCount;
    settle(this.clamp(0));
    for (let i = 0; i < keys.positive.length && next < order.length; i++) {
      seen += this.positive!.get(keys.positive[i]!)!;
      settle(this.clamp(valueOf(keys.positive[i]!)));
    }
    while (next < order.length) answers[order[next++]!.index] = this.max;
    return answers;
  }

  /**
   * About how many bytes the sketch holds on the heap (measured on Node 20): a bin is a Map entry
   * and, once sorted, a key in the sorted copy; a cache of sketches is bounded by it.
   */
  get heldBytes(): number {
    return SKETCH_BYTES + ((this.positive?.size ?? 0) + (this.negative?.size ?? 0)) * BIN_BYTES;
  }

  serialize(): Uint8Array {
    const writer = WRITER;
    writer.reset();
    writer.byte(FORMAT_VERSION);
    writer.varint(this.count);
    writer.float(this.sum);
    writer.float(this.min);
    writer.float(this.max);
    writer.varint(this.zeroCount);
    const keys = this.sorted();
    writeBins(writer, this.positive, keys.positive);
    writeBins(writer, this.negative, keys.negative);
    return writer.bytes();
  }

  /** Accepts a Buffer (pg) or a Uint8Array (PGlite). */
  static deserialize(bytes: Uint8Array): QuantileSketch {
    const reader = new ByteReader(bytes);
    const version = reader.byte();
    if (version !== FORMAT_VERSION) throw new Error(`corrupt quantile sketch: unknown version ${version}`);
    const sketch = new QuantileSketch();
    sketch.count = reader.varint();
    sketch.sum = reader.float();
    sketch.min = reader.float();
    sketch.max = reader.float();
    sketch.zeroCount = reader.varint();
    sketch.positive = readBins(reader);
    sketch.negative = readBins(reader);
    if (!reader.done()) throw new Error('corrupt quantile sketch: trailing bytes');
    return sketch;
  }

  private increment(bins: Map<number, number>, bin: number, n: number): void {
    const held = bins.get(bin);
    if (held === undefined) this.sortedKeys = undefined;
    bins.set(bin, (held ?? 0) + n);
  }

  private sorted(): { readonly positive: readonly number[]; readonly negative: readonly number[] } {
    return (this.sortedKeys ??= { positive: ascendingKeys(this.positive), negative: ascendingKeys(this.negative) });
  }

  private clamp(value: number): number {
    return Math.min(this.max, Math.max(this.min, value));
  }
}

function binOf(magnitude: number): number {
  return Math.ceil(Math.log(magnitude) / LOG_GAMMA);
}

/** The point of bin i's range (GAMMA^(i-1), GAMMA^i] whose relative distance to both ends is RELATIVE_ACCURACY. */
function valueOf(bin: number): number {
  return (2 * GAMMA ** bin) / (GAMMA + 1);
}

function ascendingKeys(bins: Map<number, number> | undefined): number[] {
  if (!bins) return [];
  return bins.size === 1 ? [bins.keys().next().value!] : [...bins.keys()].sort((a, b) => a - b);
}

/** Bins as a count, then ascending (zig-zag first index, index deltas) with their counts. */
function writeBins(writer: ByteWriter, bins: Map<number, number> | undefined, keys: readonly number[]): void {
  // Two varints of at most 8 bytes per bin, reserved once.
  writer.reserve(8 + keys.length * 16);
  writer.varint(keys.length);
  let previous = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    writer.varint(i === 0 ? (key >= 0 ? key * 2 : -key * 2 - 1) : key - previous);
    writer.varint(bins!.get(key)!);
    previous = key;
  }
}

function readBins(reader: ByteReader): Map<number, number> | undefined {
  const n = reader.varint();
  if (n === 0) return undefined;
  const bins = new Map<number, number>();
  let key = 0;
  for (let i = 0; i < n; i++) {
    const raw = reader.varint();
    key = i === 0 ? (raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2) : key + raw;
    bins.set(key, reader.varint());
  }
  return bins;
}

/** LEB128 varints computed with arithmetic, not 32-bit bit operations, so counts up to 2^53 survive. */
class ByteWriter {
  private buffer = new Uint8Array(64);
  private length = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);

  /** Starts a new value, reusing the buffer (one writer serves every serialisation, which never nest). */
  reset(): void {
    this.length = 0;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number): void {
    if (value < 0x80 && this.length < this.buffer.length) {
      this.buffer[this.length++] = value;
      return;
    }
    this.reserve(8);
    while (value >= 0x80) {
      this.buffer[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.length++] = value;
  }

  float(value: number): void {
    this.reserve(8);
    this.scratch.setFloat64(0, value, true);
    this.buffer.set(this.scratchBytes, this.length);
    this.length += 8;
  }

  bytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  byte(): number {
    if (this.offset >= this.bytes.length) throw new Error('corrupt quantile sketch: truncated');
    return this.bytes[this.offset++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
  }

  float(): number {
    if (this.offset + 8 > this.bytes.length) throw new Error('corrupt quantile sketch: truncated');
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  done(): boolean {
    return this.offset === this.bytes.length;
  }
}

const WRITER = new ByteWriter();
