import { QuantileSketch, RELATIVE_ACCURACY } from '../../../functions/domain/rollups/quantile-sketch';

function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const QUANTILES = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1];
const generators: [string, () => number][] = [
  ['log-normal response times (ms)', () => Math.exp(7 + 1.5 * gaussian())],
  ['uniform valence in -1..1 with zeros', () => (Math.random() < 0.05 ? 0 : Math.random() * 2 - 1)],
  ['integer scores 0..27', () => Math.floor(Math.random() * 28)],
];

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

describe('QuantileSketch', () => {
  it.each(generators)('answers quantiles of %s within the relative accuracy', (_, next) => {
    const values = Array.from({ length: 20_000 }, next);
    const sketch = new QuantileSketch();
    values.forEach((v) => sketch.add(v));
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(sketch.quantile(q)! - exact)).toBeLessThanOrEqual(RELATIVE_ACCURACY * Math.abs(exact) + 1e-12);
    }
    expect(sketch.count).toBe(values.length);
    expect(sketch.min).toBe(sorted[0]);
    expect(sketch.max).toBe(sorted[sorted.length - 1]);
    expect(sketch.sum).toBeCloseTo(values.reduce((a, b) => a + b, 0), 6);
  });

  it.each(generators)('answers several quantiles in one walk exactly as one at a time, for %s', (_, next) => {
    const sketch = new QuantileSketch();
    for (let i = 0; i < 5_000; i++) sketch.add(next());
    const asked = [0.95, 0.5, 1, 0, 0.25];

    expect(sketch.quantiles(asked)).toEqual(asked.map((q) => sketch.quantile(q)));
  });

  it('merges two sketches into the sketch of the union', () => {
    const a = new QuantileSketch();
    const b = new QuantileSketch();
    const union = new QuantileSketch();
    for (let i = 0; i < 5_000; i++) {
      const v = Math.random() * 4 - 1;
      (i % 3 === 0 ? a : b).add(v);
      union.add(v);
    }
    const merged = new QuantileSketch().merge(a).merge(b);
    for (const q of QUANTILES) expect(merged.quantile(q)).toBe(union.quantile(q));
    expect(merged.count).toBe(union.count);
    expect(merged.min).toBe(union.min);
    expect(merged.max).toBe(union.max);
    expect(merged.sum).toBeCloseTo(union.sum, 9);
  });

  it('round-trips through compact bytes', () => {
    const sketch = new QuantileSketch();
    for (let i = 0; i < 10_000; i++) sketch.add(Math.round(Math.random() * 3_600_000) * (i % 7 === 0 ? -1 : 1));
    sketch.add(0);
    const bytes = sketch.serialize();
    expect(bytes.length).toBeLessThan(3_000);
    const back = QuantileSketch.deserialize(Buffer.from(bytes));
    for (const q of QUANTILES) expect(back.quantile(q)).toBe(sketch.quantile(q));
    expect([back.count, back.sum, back.min, back.max]).toEqual([sketch.count, sketch.sum, sketch.min, sketch.max]);
    expect(back.serialize()).toEqual(bytes);
  });

  it('answers from every value added or merged after an earlier read or serialisation', () => {
    const sketch = new QuantileSketch();
    for (const value of [-5, 1, 2, 3]) sketch.add(value);
    const before = sketch.serialize();
    expect(sketch.pointQuantiles()).toEqual({ p50: expect.closeTo(1, 1), p95: expect.closeTo(2, 1) });

    for (let i = 0; i < 20; i++) sketch.add(-100);
    sketch.merge(new QuantileSketch().add(1_000).add(-0.5));

    const reference = new QuantileSketch();
    for (const value of [-5, 1, 2, 3, ...Array<number>(20).fill(-100), 1_000, -0.5]) reference.add(value);
    for (const q of [0, 0.1, 0.5, 0.9, 0.95, 1]) expect(sketch.quantile(q)).toBe(reference.quantile(q));
    expect(sketch.pointQuantiles()).toEqual(reference.pointQuantiles());
    expect(sketch.serialize()).toEqual(reference.serialize());
    expect(sketch.serialize()).not.toEqual(before);
  });

  it('answers from values that land in the bins it has, then in new ones, after each serialisation', () => {
    const values = [-5, 1, 2, 3, 300];
    const sketch = new QuantileSketch();
    for (const value of values) sketch.add(value);
    const reference = new QuantileSketch();
    for (const value of values) reference.add(value);
    sketch.serialize();
    // Counts of bins it holds (as a live row merged with each batch), then a bin between two of them.
    for (const more of [[3, 3, 300], [-5, 1], [2.5, 3]]) {
      sketch.merge(more.reduce((batch, value) => batch.add(value), new QuantileSketch()));
      for (const value of more) reference.add(value);
      expect(sketch.serialize()).toEqual(reference.serialize());
      for (const q of [0, 0.25, 0.5, 0.9, 1]) expect(sketch.quantile(q)).toBe(reference.quantile(q));
    }
  });

  it('counts the bytes it holds by its bins, not its values', () => {
    const sameBin = new QuantileSketch();
    const spread = new QuantileSketch();
    for (let i = 1; i <= 100; i++) {
      sameBin.add(1_000);
      spread.add(1.05 ** i);
    }
    expect(sameBin.heldBytes).toBe(new QuantileSketch().add(1_000).heldBytes);
    expect(spread.heldBytes - sameBin.heldBytes).toBeGreaterThanOrEqual(99 * 40);
  });

  it('answers undefined when empty and refuses bad input', () => {
    expect(new QuantileSketch().quantile(0.5)).toBeUndefined();
    expect(new QuantileSketch().pointQuantiles()).toBeUndefined();
    expect(() => new QuantileSketch().add(NaN)).toThrow();
    expect(() => new QuantileSketch().quantile(1.5)).toThrow(RangeError);
    expect(() => QuantileSketch.deserialize(Uint8Array.of(1, 0x80))).toThrow(/truncated/);
  });
});
