import { releaseGate } from '../../../functions/domain/privacy/release-gate';

describe('the release gate', () => {
  it('settles a group of k distinct users and refuses one of k - 1', () => {
    expect([releaseGate(10).settles(10), releaseGate(10).settles(9)]).toEqual([true, false]);
  });

  it('refuses a k that is no whole number of users', () => {
    expect(() => releaseGate(0)).toThrow(RangeError);
    expect(() => releaseGate(2.5)).toThrow(RangeError);
  });
});
