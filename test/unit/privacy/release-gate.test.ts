import { releaseGate } from '../../../functions/domain/privacy/release-gate';

describe('the release gate', () => {
  it('admits a group of k distinct users and refuses one of k - 1', () => {
    const gate = releaseGate(10);
    expect(gate.admits(0, () => 10)).toBe(true);
    expect(gate.admits(0, () => 9)).toBe(false);
    expect(gate.suppression({ platform: 'web' })).toEqual({ group: { platform: 'web' }, reason: 'k_anonymity' });
  });

  it('takes a known lower bound of k without counting', () => {
    expect([releaseGate(5).settles(5), releaseGate(5).settles(4)]).toEqual([true, false]);
    let counted = 0;
    const count = () => (counted++, 3);
    expect(releaseGate(5).admits(5, count)).toBe(true);
    expect(counted).toBe(0);
    expect(releaseGate(5).admits(4, count)).toBe(false);
    expect(counted).toBe(1);
  });

  it('refuses a k that is no whole number of users', () => {
    expect(() => releaseGate(0)).toThrow(RangeError);
    expect(() => releaseGate(2.5)).toThrow(RangeError);
  });
});
