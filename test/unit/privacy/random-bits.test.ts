import { randomBytes } from 'node:crypto';
import { bitLength, pooledBytes, randomBits } from '../../../functions/domain/privacy/noise/random-bits';
import { cryptoRandom } from './noise-statistics';

// Pearson's statistic for counts that should be equal.
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
}

// The χ² quantiles with P(χ² > q) = 1e-9, the false-failure probability of each check below.
const CHI_SQUARE_1E9 = { 4: 47.88, 5: 50.69 } as const;
const DRAWS = 60_000;

describe('uniform integers from a byte source', () => {
  it.each([
    [5, CHI_SQUARE_1E9[4]],
    [6, CHI_SQUARE_1E9[5]],
  ])('are uniform below %i (χ² over 60 000 draws under the 1e-9 quantile %f)', (n, quantile) => {
    const random = cryptoRandom();
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < DRAWS; i++) {
      const k = Number(random.uniformBelow(BigInt(n)));
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(chiSquare(counts)).toBeLessThan(quantile);
  });

  it('shows the bias the rejection avoids: three bits reduced modulo 5 fail the same check', () => {
    // 0, 1, 2 come from two of the eight values each, 3 and 4 from one: χ² near 0.1·N = 6000.
    const counts = new Array<number>(5).fill(0);
    const bytes = randomBytes(DRAWS);
    for (const byte of bytes) counts[(byte & 7) % 5]! += 1;
    expect(chiSquare(counts)).toBeGreaterThan(CHI_SQUARE_1E9[4]);
  });

  it('covers the whole range of a bound wider than 2^64', () => {
    const random = cryptoRandom();
    const n = (1n << 70n) + 3n;
    const draws = Array.from({ length: 2000 }, () => random.uniformBelow(n));
    expect(draws.every((x) => x >= 0n && x < n)).toBe(true);
    // Each draw is above 2^69 with probability just under 1/2; all 2000 below it has probability 2^-2000.
    expect(draws.some((x) => x >= 1n << 69n)).toBe(true);
  });

  it('asks for no byte when there is one choice, and refuses an empty range', () => {
    const random = randomBits(() => {
      throw new Error('no byte should be needed');
    });
    expect(random.uniformBelow(1n)).toBe(0n);
    expect(() => random.uniformBelow(0n)).toThrow(RangeError);
  });

  it('rejects a draw at or above the bound and draws again', () => {
    // Bound 5 needs 3 bits: 7 and 5 are rejected (upper bits of the byte masked off), 0b11111011 gives 3.
    const replies = [7, 5, 0b1111_1011];
    const random = randomBits((count) => Uint8Array.of(...replies.splice(0, count)));
    expect(random.uniformBelow(5n)).toBe(3n);
    expect(replies).toEqual([]);
  });

  it('refuses a byte source that gives fewer bytes than asked for', () => {
    expect(() => randomBits(() => new Uint8Array(0)).uniformBelow(300n)).toThrow(RangeError);
  });

  it('pools the bytes of the source and hands each out once, in order', () => {
    let calls = 0;
    let next = 0;
    const source = (count: number) => {
      calls++;
      return Uint8Array.from({ length: count }, () => next++ % 256);
    };
    const pooled = pooledBytes(source, 8);
    expect([...pooled(3), ...pooled(3), ...pooled(3)]).toEqual([0, 1, 2, 3, 4, 5, 8, 9, 10]);
    expect(calls).toBe(2);
    expect(pooled(20)).toHaveLength(20);
  });

  it('measures bit lengths', () => {
    expect([0n, 1n, 4n, 7n, 8n, (1n << 100n) - 1n].map(bitLength)).toEqual([0, 1, 3, 3, 4, 100]);
  });
});
