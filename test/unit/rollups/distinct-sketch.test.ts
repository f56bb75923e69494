import { createHash } from 'node:crypto';
import { DistinctSketch, ESTIMATE_RELATIVE_ERROR, EXPLICIT_LIMIT, memberHash } from '../../../functions/domain/rollups/distinct-sketch';

/**
 * Pseudonyms as the product makes them (hex of a hash), each new, and the same on every run: an
 * estimate's error is a draw, and a random draw put a bound of 2.5 standard errors out of reach
 * once in a few dozen runs. Bounds on HyperLogLog estimates are four standard errors.
 */
let minted = 0;
const pseudonyms = (n: number): string[] => Array.from({ length: n }, () => createHash('sha256').update(`member-${minted++}`).digest('hex'));
const FOUR_STANDARD_ERRORS = 4 * ESTIMATE_RELATIVE_ERROR;

describe('DistinctSketch', () => {
  it('counts exactly, with duplicates, up to the explicit limit', () => {
    const members = pseudonyms(EXPLICIT_LIMIT);
    const sketch = DistinctSketch.ofMembers([...members, ...members.slice(0, 100)]);
    expect(sketch.estimate()).toEqual({ count: EXPLICIT_LIMIT, approximate: false });
    expect(sketch.isExplicit).toBe(true);
  });

  it('turns into HyperLogLog one member over the limit, within 2% of the truth', () => {
    const members = pseudonyms(EXPLICIT_LIMIT + 1);
    const sketch = DistinctSketch.ofMembers(members);
    expect(sketch.isExplicit).toBe(false);
    const { count, approximate } = sketch.estimate();
    expect(approximate).toBe(true);
    expect(Math.abs(count - members.length) / members.length).toBeLessThan(0.02);
  });

  it('stays explicit when merging two explicit sketches under the limit, and converts over it', () => {
    const a = pseudonyms(600);
    const b = pseudonyms(400);
    const merged = DistinctSketch.ofMembers(a).merge(DistinctSketch.ofMembers([...b, ...a.slice(0, 50)]));
    expect(merged.estimate()).toEqual({ count: 1000, approximate: false });
    const over = merged.merge(DistinctSketch.ofMembers(pseudonyms(100)));
    expect(over.isExplicit).toBe(false);
    expect(Math.abs(over.estimate().count - 1100)).toBeLessThan(30);
  });

  it.each([2_000, 20_000, 100_000, 1_000_000])('estimates %i members within four standard errors', (n) => {
    const hashes = new BigUint64Array(n);
    const bytes = createHash('shake256', { outputLength: n * 8 }).update(`hashes-${n}`).digest();
    for (let i = 0; i < n; i++) hashes[i] = bytes.readBigUInt64LE(i * 8);
    const { count } = DistinctSketch.fromHashes(hashes).estimate();
    expect(Math.abs(count - n) / n).toBeLessThan(FOUR_STANDARD_ERRORS);
  });

  it('merges HLL with HLL and with explicit as the sketch of the union', () => {
    const a = pseudonyms(3_000);
    const b = pseudonyms(2_000);
    const c = pseudonyms(10);
    const union = DistinctSketch.ofMembers([...a, ...b, ...c]);
    const merged = DistinctSketch.ofMembers(a).merge(DistinctSketch.ofMembers(b)).merge(DistinctSketch.ofMembers(c));
    expect(merged.serialize()).toEqual(union.serialize());
    expect(DistinctSketch.ofMembers(c).merge(DistinctSketch.ofMembers(a)).serialize()).toEqual(DistinctSketch.ofMembers([...a, ...c]).serialize());
  });

  it.each([
    ['empty', 0],
    ['explicit', 700],
    ['sparse HLL', 2_000],
    ['dense HLL', 50_000],
  ])('round-trips a %s sketch through bytes, also from an unaligned Buffer', (_, n) => {
    const sketch = DistinctSketch.ofMembers(pseudonyms(n));
    const bytes = sketch.serialize();
    const unaligned = Buffer.concat([Buffer.from([0, 0, 0]), bytes]).subarray(3);
    const back = DistinctSketch.deserialize(unaligned);
    expect(back.estimate()).toEqual(sketch.estimate());
    expect(back.serialize()).toEqual(bytes);
  });

  it('keeps a sparse HLL small and caps a dense one at 16 KiB', () => {
    expect(DistinctSketch.ofMembers(pseudonyms(2_000)).serialize().length).toBeLessThan(6_000);
    expect(DistinctSketch.ofMembers(pseudonyms(50_000)).serialize().length).toBe(16_385);
  });

  it('counts the bytes it holds: eight a member while explicit, the 16 KiB of registers as HyperLogLog', () => {
    const one = DistinctSketch.ofMembers(pseudonyms(1)).heldBytes;
    const explicit = DistinctSketch.ofMembers(pseudonyms(EXPLICIT_LIMIT)).heldBytes;
    expect(explicit - one).toBe((EXPLICIT_LIMIT - 1) * 8);
    const hll = DistinctSketch.ofMembers(pseudonyms(EXPLICIT_LIMIT + 1));
    expect(hll.heldBytes - one).toBeGreaterThanOrEqual(16_384 - 8);
    // Estimating keeps a histogram of the registers.
    const before = hll.heldBytes;
    hll.estimate();
    expect(hll.heldBytes).toBeGreaterThan(before);
  });

  it('takes the hash of a hex pseudonym from its first 64 bits and mixes anything else', () => {
    expect(memberHash('00000000000000ff' + 'a'.repeat(48))).toBe(255n);
    expect(memberHash('user-1')).not.toBe(memberHash('user-2'));
    const members = Array.from({ length: 5_000 }, (_, i) => `user-${i}`);
    expect(Math.abs(DistinctSketch.ofMembers(members).estimate().count - 5_000)).toBeLessThan(150);
  });

  it.each([
    ['explicit', 500],
    ['HLL', 5_000],
  ])('answers the same %s sketch from a merge that adds no member, so it need not be rewritten', (_, n) => {
    const members = pseudonyms(n);
    const sketch = DistinctSketch.ofMembers(members);
    expect(sketch.merge(DistinctSketch.ofMembers(members.slice(0, 300)))).toBe(sketch);
    expect(sketch.merge(DistinctSketch.ofMembers(pseudonyms(50)))).not.toBe(sketch);
  });

  it('refuses corrupt bytes', () => {
    expect(() => DistinctSketch.deserialize(Uint8Array.of(9))).toThrow(/unknown kind/);
    expect(() => DistinctSketch.deserialize(Uint8Array.of(1, 2, 3))).toThrow(/whole hashes/);
  });
});

describe('DistinctSketch.mergeOwned', () => {
  it('answers what merge answers, reusing HyperLogLog registers, and this very sketch when nothing is added', () => {
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `user-${from + i}`);
    for (const [a, b] of [
      [ids(0, 10), ids(5, 20)],
      [ids(0, 2_000), ids(1_500, 1_600)],
      [ids(0, 2_000), ids(2_000, 5_000)],
      [ids(0, 100), ids(0, 3_000)],
    ] as const) {
      const left = DistinctSketch.ofMembers(a);
      const expected = left.merge(DistinctSketch.ofMembers(b));
      const owned = DistinctSketch.ofMembers(a);
      const merged = owned.mergeOwned(DistinctSketch.ofMembers(b));
      expect(merged === owned).toBe(expected === left);
      expect(merged.estimate()).toEqual(expected.estimate());
      expect(merged.serialize()).toEqual(expected.serialize());
      expect(merged.mergeOwned(DistinctSketch.ofMembers(b.slice(0, 50)))).toBe(merged);
    }
  });

  it('keeps its estimate right while it grows in place, batch after batch', () => {
    // A cached row: estimated after every merge into it, from explicit deltas and from HyperLogLog ones.
    let owned = DistinctSketch.ofMembers(pseudonyms(3_000));
    const all = [owned];
    for (let batch = 0; batch < 20; batch++) {
      expect(owned.estimate()).toEqual(DistinctSketch.deserialize(owned.serialize()).estimate());
      const delta = DistinctSketch.ofMembers(pseudonyms(batch % 4 === 0 ? 2_000 : 300));
      all.push(delta);
      owned = owned.mergeOwned(delta);
    }
    expect(owned.estimate()).toEqual(DistinctSketch.union(all.slice(1).concat(DistinctSketch.deserialize(owned.serialize()))).estimate());
    expect(Math.abs(owned.estimate().count - 17_500) / 17_500).toBeLessThan(FOUR_STANDARD_ERRORS);
  });

  it('answers the union of many sketches at once as pairwise merges do', () => {
    const parts = [pseudonyms(10), pseudonyms(500), pseudonyms(700), pseudonyms(2_000)].map((members) => DistinctSketch.ofMembers(members));
    // Several HyperLogLog parts, sparse and dense, read back as a store reads them (a local week's days).
    const hll = [1_500, 3_000, 20_000, 60_000].map((n) => DistinctSketch.deserialize(DistinctSketch.ofMembers(pseudonyms(n)).serialize()));
    for (const some of [parts.slice(0, 2), parts.slice(0, 3), parts, hll, [...hll, ...parts]]) {
      const pairwise = some.reduce((a, b) => a.merge(b));
      expect(DistinctSketch.union(some).serialize()).toEqual(pairwise.serialize());
    }
  });

  it('answers the estimate stored beside a HyperLogLog sketch read back, until the sketch grows in place', () => {
    const sketch = DistinctSketch.ofMembers(pseudonyms(3_000));
    const stored = sketch.estimate();
    const read = DistinctSketch.deserialize(sketch.serialize(), stored);
    expect(read.estimate()).toEqual(stored);
    expect(DistinctSketch.unionEstimate([read])).toEqual(stored);
    // What the store wrote beside the registers is answered as written, not counted again.
    expect(DistinctSketch.deserialize(sketch.serialize(), { count: 1, approximate: true }).estimate()).toEqual({ count: 1, approximate: true });
    const grown = DistinctSketch.deserialize(sketch.serialize(), stored);
    const delta = DistinctSketch.ofMembers(pseudonyms(2_000));
    expect(grown.mergeOwned(delta).estimate()).toEqual(sketch.merge(delta).estimate());
    expect(grown.estimate()).toEqual(sketch.merge(delta).estimate());
  });

  it("counts a union as the union's estimate does, explicit and exact to the limit, then HyperLogLog's", () => {
    const shared = pseudonyms(300);
    const of = (n: number, overlap = 0) => DistinctSketch.ofMembers([...pseudonyms(n), ...shared.slice(0, overlap)]);
    const cases = [
      [of(0), of(0)],
      [of(5), of(0)],
      // Two sets with members in common, under the limit, at it, and just over it.
      [of(200, 100), of(300, 150)],
      [of(362, 300), of(362, 300)],
      [of(363, 300), of(362, 300)],
      [of(1_000), of(900)],
      // Many parts (a local day of 24 hours), some crossing into HyperLogLog, and HyperLogLog with explicit.
      Array.from({ length: 24 }, (_, i) => of(30 + i, i * 10)),
      Array.from({ length: 24 }, (_, i) => of(60, i)),
      [of(2_000), of(10, 5)],
      [of(2_000), of(3_000)],
    ];
    for (const parts of cases) expect(DistinctSketch.unionEstimate(parts)).toEqual(DistinctSketch.union(parts).estimate());
    expect(DistinctSketch.unionEstimate(cases[3]!)).toEqual({ count: EXPLICIT_LIMIT, approximate: false });
    expect(DistinctSketch.unionEstimate(cases[4]!).approximate).toBe(true);
  });
});
