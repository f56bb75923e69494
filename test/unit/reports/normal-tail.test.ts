import { erfc, twoSidedNormalP, Z_95 } from '../../../functions/domain/reports/normal-tail';

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / expected;

describe('the normal tail behind the trend p-values', () => {
  it('gives the two-sided p-values of the normal tables to seven significant digits, far into the tail', () => {
    // 2·P(Z > z), from scipy 1.17.1 (stats.norm.sf); 0.05 and 0.01 at the textbook critical values.
    const table: [number, number][] = [
      [1, 0.31731050786291415],
      [Z_95, 0.05],
      [2.5758293035489, 0.01],
      [3, 0.0026997960632601866],
      [5, 5.733031437583866e-7],
      [8, 1.244192114854348e-15],
    ];
    for (const [z, p] of table) {
      expect(relativeError(twoSidedNormalP(z), p)).toBeLessThan(1.2e-7);
      expect(relativeError(twoSidedNormalP(-z), p)).toBeLessThan(1.2e-7);
    }
  });

  it('never gives a p-value above 1, though the fit overshoots at z = 0', () => {
    expect(erfc(0)).toBeGreaterThan(1);
    expect(twoSidedNormalP(0)).toBe(1);
  });

  it('keeps erfc(-x) = 2 - erfc(x) and matches erfc at known points', () => {
    // erfc(0.5) and erfc(2), from Python's math.erfc.
    expect(relativeError(erfc(0.5), 0.4795001221869535)).toBeLessThan(1.2e-7);
    expect(relativeError(erfc(2), 0.004677734981047265)).toBeLessThan(1.2e-7);
    expect(erfc(-2)).toBeCloseTo(2 - erfc(2), 15);
  });
});
