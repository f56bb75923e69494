import fc from 'fast-check';
import { releasePolicy, type Partition, type ReleaseCell } from '../../../functions/domain/privacy/release-policy';

const exact = (users: number): ReleaseCell => ({ users, usersApprox: false });
const policy = releasePolicy({ k: 10, approximateMargin: 0.03 });

describe('the release policy', () => {
  it('withholds a cell of fewer than k users and releases one of k', () => {
    expect(policy.releasable([exact(9), exact(10)], [])).toEqual([false, true]);
  });

  it('withholds the next-smallest sibling when the withheld ones would be the parent minus the rest', () => {
    // 1 Android, 10 iOS and 12 web users: the total (23) minus iOS and web is one person.
    const cells = [exact(10), exact(1), exact(12)];
    expect(policy.releasable(cells, [{ parent: exact(23), children: [0, 1, 2] }])).toEqual([false, false, true]);
    // Two siblings alone: both go, and the parent's 11 are all that is left to see.
    expect(policy.releasable([exact(10), exact(1)], [{ parent: exact(11), children: [0, 1] }])).toEqual([false, false]);
  });

  it('keeps every sibling when those under k hold k users together', () => {
    const cells = [exact(40), exact(6), exact(5)];
    expect(policy.releasable(cells, [{ parent: exact(51), children: [0, 1, 2] }])).toEqual([true, false, false]);
  });

  it('counts people in several siblings once: the bound errs towards withholding', () => {
    // Types of events: all 20 people sent the first type, 15 of them a second, 4 a third. Without
    // the third, the total of 20 minus the first two proves nobody is left, and minus the first
    // alone proves nobody either (it holds all 20): everything goes, though the second and third
    // hold 15 people. Counts cannot tell overlapping people apart, so the bound withholds.
    const cells = [exact(20), exact(15), exact(4)];
    expect(policy.releasable(cells, [{ parent: exact(20), children: [0, 1, 2] }])).toEqual([false, false, false]);
    // The same counts, people disjoint (a parent of 39): only the third is withheld... and with
    // 4 people it cannot stand alone, so the second (smaller of the rest) goes with it.
    expect(policy.releasable(cells, [{ parent: exact(39), children: [0, 1, 2] }])).toEqual([true, false, false]);
  });

  it('follows a withheld cell into its other partitions until nothing changes', () => {
    // Hours of two groups: 0 = (10:00, ios), 1 = (10:00, android), 2 = (11:00, ios), 3 = (11:00, android).
    const cells = [exact(10), exact(1), exact(30), exact(30)];
    const partitions: Partition[] = [
      { parent: exact(11), children: [0, 1] }, // 10:00, every platform
      { parent: exact(60), children: [2, 3] }, // 11:00, every platform
      { parent: exact(30), children: [0, 2] }, // the day, ios (the same 30 people came at 11:00)
      { parent: exact(30), children: [1, 3] }, // the day, android
    ];
    // 10:00 ios goes with android's one person; then the ios day minus 11:00 leaves nobody
    // provable, so 11:00 ios goes; then 11:00 minus android would be ios: android goes too.
    expect(policy.releasable(cells, partitions)).toEqual([false, false, false, false]);
  });

  it('ignores a parent under k: it is withheld itself, and all of its children with it', () => {
    expect(policy.releasable([exact(3), exact(4)], [{ parent: exact(7), children: [0, 1] }])).toEqual([false, false]);
  });

  it('widens estimated counts against the release', () => {
    // 2,000 estimated in the parent might be 1,940; the released 1,990 might be 2,050.
    const cells = [{ users: 1_990, usersApprox: true }, exact(3)];
    expect(policy.releasable(cells, [{ parent: { users: 2_000, usersApprox: true }, children: [0, 1] }])).toEqual([false, false]);
    expect(releasePolicy({ k: 10, approximateMargin: 0 }).releasable(cells, [{ parent: { users: 2_000, usersApprox: true }, children: [0, 1] }])).toEqual([true, false]);
  });

  it('refuses a k that is no whole number of users and a margin outside [0, 1)', () => {
    expect(() => releasePolicy({ k: 0, approximateMargin: 0 })).toThrow(RangeError);
    expect(() => releasePolicy({ k: 2.5, approximateMargin: 0 })).toThrow(RangeError);
    expect(() => releasePolicy({ k: 5, approximateMargin: 1 })).toThrow(RangeError);
  });

  it('never leaves a released parent minus its released children with fewer than k people (disjoint children)', () => {
    // Children disjoint in people, as platforms are: the parent's users are the children's sum.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), (k, sizes) => {
        const parentUsers = sizes.reduce((a, b) => a + b, 0);
        const released = releasePolicy({ k, approximateMargin: 0 }).releasable(sizes.map(exact), [{ parent: exact(parentUsers), children: sizes.map((_, i) => i) }]);
        const residual = sizes.reduce((sum, users, i) => (released[i] ? sum : sum + users), 0);
        expect(sizes.filter((users, i) => released[i] && users < k)).toEqual([]);
        // A parent under k is withheld itself; otherwise what it leaves is nobody or k people.
        expect(parentUsers < k || residual === 0 || residual >= k).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});
