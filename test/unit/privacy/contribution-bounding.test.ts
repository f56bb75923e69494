import { boundContributions, type ContributionBounds } from '../../../functions/domain/privacy/noise/contribution-bounding';
import { dyadic, toNumber, type Dyadic } from '../../../functions/domain/privacy/noise/dyadic';
import { cryptoRandom, expectWithinStandardErrors, seededRandom } from './noise-statistics';

const ADVERSARIAL = [1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 5e-324, -5e-324, 0.1, 1e-300];
const BOUNDS: ContributionBounds[] = [
  { maxContributionsPerUser: 1, lower: 0, upper: 1 },
  { maxContributionsPerUser: 3, lower: -3, upper: 5 },
  { maxContributionsPerUser: 7, lower: -1e6, upper: 2 },
  { maxContributionsPerUser: 2, lower: 2.5, upper: 7.25 },
  { maxContributionsPerUser: 5, lower: 0.1, upper: 0.3 },
];

const difference = (a: Dyadic, b: Dyadic) => {
  const d = a.timesTwoTo1074 - b.timesTwoTo1074;
  return d < 0n ? -d : d;
};

describe('contribution bounding', () => {
  it('lets no added user move the sum by more than m·max(|lower|, |upper|) nor the count by more than m (300 adversarial neighbours)', () => {
    const pick = cryptoRandom();
    const below = (n: number) => Number(pick.uniformBelow(BigInt(n)));
    for (let trial = 0; trial < 300; trial++) {
      const bounds = BOUNDS[trial % BOUNDS.length] as ContributionBounds;
      const m = bounds.maxContributionsPerUser;
      const others = new Map<string, number[]>();
      const userCount = below(20);
      for (let u = 0; u < userCount; u++) {
        others.set(`user-${u}`, Array.from({ length: below(m + 4) }, () => (below(2) ? (below(2001) - 1000) / 37 : (ADVERSARIAL[below(ADVERSARIAL.length)] as number))));
      }
      const adversaryCount = [0, 1, m, m + 1, 5000][below(5)] as number;
      const fixed = below(2) === 1 ? (ADVERSARIAL[below(ADVERSARIAL.length)] as number) : undefined;
      const adversary = Array.from({ length: adversaryCount }, () => fixed ?? (ADVERSARIAL[below(ADVERSARIAL.length)] as number));
      // The adversary comes last, so the users both datasets share draw the same random bytes.
      const seed = below(2 ** 31);
      const without = boundContributions(seededRandom(seed), others, bounds);
      const withAdversary = boundContributions(seededRandom(seed), new Map([...others, ['adversary', adversary]]), bounds);

      expect(withAdversary.sumSensitivity).toBe(without.sumSensitivity);
      expect(difference(withAdversary.sum, without.sum) <= dyadic(without.sumSensitivity).timesTwoTo1074).toBe(true);
      expect(Math.abs(withAdversary.count - without.count)).toBeLessThanOrEqual(without.countSensitivity);
      expect(without.countSensitivity).toBe(m);
    }
  });

  it('is tight: m values at the bound of larger magnitude move the sum by exactly the sensitivity', () => {
    const bounds = { maxContributionsPerUser: 4, lower: -9, upper: 2 };
    const others = new Map([['a', [1, 2, -3]]]);
    const without = boundContributions(cryptoRandom(), others, bounds);
    const withAdversary = boundContributions(cryptoRandom(), new Map([...others, ['adversary', new Array<number>(1000).fill(-1e300)]]), bounds);
    expect(without.sumSensitivity).toBe(36);
    expect(toNumber(without.sum) - toNumber(withAdversary.sum)).toBe(36);
    expect(withAdversary.count - without.count).toBe(4);
  });

  it('drops a NaN, clamps ±Infinity and sums exactly', () => {
    const bounds = { maxContributionsPerUser: 10, lower: -1, upper: 1 };
    const result = boundContributions(cryptoRandom(), new Map([['u', [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5]]]), bounds);
    expect(result.count).toBe(3);
    expect(toNumber(result.sum)).toBe(0.5);
    const tenths = boundContributions(cryptoRandom(), new Map([['u', new Array<number>(10).fill(0.1)]]), bounds);
    expect(tenths.sum.timesTwoTo1074).toBe(10n * dyadic(0.1).timesTwoTo1074);
  });

  it('rounds a sensitivity up, never down', () => {
    // 3 × 0.1 is exactly 0.3000000000000000166…; the double nearest to it must not be below it.
    const { sumSensitivity } = boundContributions(cryptoRandom(), new Map(), { maxContributionsPerUser: 3, lower: 0, upper: 0.1 });
    expect(dyadic(sumSensitivity).timesTwoTo1074 >= 3n * dyadic(0.1).timesTwoTo1074).toBe(true);
  });

  it('keeps a uniform choice of a user’s values: over 10 000 boundings of 10 values, each kept alone 1 time in 10, and 3 of them summing to 13.5 on average, within 6 standard errors', () => {
    // Ten checks at ≈ 2e-9 each (noise-statistics.ts).
    const random = cryptoRandom();
    const trials = 10_000;
    const kept = new Array<number>(10).fill(0);
    const values = Array.from({ length: 10 }, (_, i) => i);
    for (let t = 0; t < trials; t++) {
      const { sum } = boundContributions(random, new Map([['u', values]]), { maxContributionsPerUser: 1, lower: 0, upper: 9 });
      const chosen = toNumber(sum);
      kept[chosen] = (kept[chosen] ?? 0) + 1;
    }
    for (const count of kept) expectWithinStandardErrors(count / trials, 0.1, Math.sqrt((0.1 * 0.9) / trials));
    // m = 3 of 10: the kept sum averages 3 × 4.5.
    let total = 0;
    for (let t = 0; t < trials; t++) {
      total += toNumber(boundContributions(random, new Map([['u', values]]), { maxContributionsPerUser: 3, lower: 0, upper: 9 }).sum);
    }
    // Var of a 3-of-10 sample sum without replacement: 3 · 8.25 · (10 - 3)/(10 - 1).
    expectWithinStandardErrors(total / trials, 13.5, Math.sqrt((3 * 8.25 * 7) / 9 / trials));
  });

  it('refuses bounds that bound nothing', () => {
    const random = cryptoRandom();
    const none = new Map<string, number[]>();
    for (const bounds of [
      { maxContributionsPerUser: 0, lower: 0, upper: 1 },
      { maxContributionsPerUser: 1.5, lower: 0, upper: 1 },
      { maxContributionsPerUser: 1, lower: 1, upper: 0 },
      { maxContributionsPerUser: 1, lower: Number.NEGATIVE_INFINITY, upper: 1 },
      { maxContributionsPerUser: 1, lower: 0, upper: Number.NaN },
    ]) {
      expect(() => boundContributions(random, none, bounds)).toThrow(RangeError);
    }
  });
});
