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

  it('counts people in several siblings once: the bound from the parent errs towards withholding', () => {
    // Types of events: all 20 people sent the first type, 15 of them a second, 4 a third. The
    // total of 20 minus the first two proves nobody left (people overlap), so the second goes
    // too, and carries its 15 people into what the total minus the first leaves.
    const cells = [exact(20), exact(15), exact(4)];
    expect(policy.releasable(cells, [{ parent: exact(20), children: [0, 1, 2] }])).toEqual([true, false, false]);
  });

  it('takes a withheld sibling of k users as covering the rest', () => {
    // Alone, the 2 would be the parent (52) minus the 20 and the 30: the 20, smaller, goes too.
    const cells = [exact(20), exact(30), exact(2)];
    expect(policy.releasable(cells, [{ parent: exact(52), children: [0, 1, 2] }])).toEqual([false, true, false]);
    // When the 30 are withheld by another partition (a day minus its other hour would be one
    // person), they are in what the parent minus the 20 leaves: 32 people, and the 20 stay.
    const cascade = policy.releasable([...cells, exact(1)], [
      { parent: exact(31), children: [1, 3] },
      { parent: exact(52), children: [0, 1, 2] },
    ]);
    expect(cascade).toEqual([true, false, false, false]);
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
    // 10:00 android's one person takes 10:00 ios with it; the android day minus 11:00 would be
    // that one person again, so 11:00 android goes, and 11:00 over every platform minus ios
    // leaves its 30 people.
    expect(policy.releasable(cells, partitions)).toEqual([false, false, true, false]);
  });

  it('ignores a parent under k: it is withheld itself, and all of its children with it', () => {
    expect(policy.releasable([exact(3), exact(4)], [{ parent: exact(7), children: [0, 1] }])).toEqual([false, false]);
  });

  it('widens estimated counts against the release', () => {
    // Exactly, 2,003 - 1,800 - 190 leaves 13 people; within the margin, maybe none.
    const cells = [{ users: 1_800, usersApprox: true }, exact(3), { users: 190, usersApprox: true }];
    const partitions = [{ parent: { users: 2_003, usersApprox: true }, children: [0, 1, 2] }];
    expect(policy.releasable(cells, partitions)).toEqual([true, false, false]);
    expect(releasePolicy({ k: 10, approximateMargin: 0 }).releasable(cells, partitions)).toEqual([true, false, true]);
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
