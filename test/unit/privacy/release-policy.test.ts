import fc from 'fast-check';
import { releasePolicy, type ReleasePolicy } from '../../../functions/domain/privacy/release-policy';

interface Cell {
  readonly users: number;
  readonly usersApprox: boolean;
}
interface Partition {
  readonly parent: number;
  readonly children: readonly number[];
}

const exact = (users: number): Cell => ({ users, usersApprox: false });
const policy = releasePolicy({ k: 10, approximateMargin: 0.03 });
/** The policy's decision on cells and partitions written out, packed into its columns. */
const releasable = (on: Pick<ReleasePolicy, 'releasable'>, cells: readonly Cell[], partitions: readonly Partition[]): boolean[] => {
  const children = partitions.flatMap((partition) => partition.children);
  const starts = [0];
  for (const partition of partitions) starts.push(starts.at(-1)! + partition.children.length);
  const released = on.releasable(
    { users: cells.map((cell) => cell.users), usersApprox: cells.map((cell) => (cell.usersApprox ? 1 : 0)) },
    { parents: partitions.map((partition) => partition.parent), starts, children },
  );
  return Array.from(released, (shown) => shown === 1);
};
/** Cell 0 is the parent of the cells after it. */
const family = (parent: number, ...children: number[]) => ({
  cells: [parent, ...children].map(exact),
  partitions: [{ parent: 0, children: children.map((_, i) => i + 1) }],
});
const decide = ({ cells, partitions }: ReturnType<typeof family>) => releasable(policy, cells, partitions);

describe('the release policy', () => {
  it('withholds a cell of fewer than k users and releases one of k', () => {
    expect(releasable(policy, [exact(9), exact(10)], [])).toEqual([false, true]);
  });

  it('withholds the next-smallest sibling when the withheld ones would be the parent minus the rest', () => {
    // 1 Android, 10 iOS and 12 web users: the total (23) minus iOS and web would be one person.
    expect(decide(family(23, 10, 1, 12))).toEqual([true, false, false, true]);
    // Two siblings alone: both go, and the parent's 11 are all there is to see.
    expect(decide(family(11, 10, 1))).toEqual([true, false, false]);
  });

  it('keeps every other sibling when those under k hold k users together', () => {
    expect(decide(family(51, 40, 6, 5))).toEqual([true, true, false, false]);
  });

  it('counts people in several siblings once: the bound from the parent errs towards withholding', () => {
    // Types of events: all 20 people sent the first type, 15 of them a second, 4 a third. The
    // total of 20 minus the first two proves nobody left (people overlap), so the second goes
    // too, and carries its 15 people into what the total minus the first leaves.
    expect(decide(family(20, 20, 15, 4))).toEqual([true, true, false, false]);
  });

  it('never leaves a single withheld cell as the parent minus the rest, whatever its size', () => {
    // The 30 are withheld by another partition (the day minus its other hour would be one
    // person); beside the 20 alone they would be the 50 minus the 20: the 20 go too.
    const cells = [exact(50), exact(20), exact(30), exact(31), exact(1)];
    const released = releasable(policy, cells, [
      { parent: 3, children: [2, 4] },
      { parent: 0, children: [1, 2] },
    ]);
    expect(released).toEqual([true, false, false, true, false]);
  });

  it('never leaves a withheld parent as the sum of its released children', () => {
    // The hour (12) is withheld beside its day; its one minute would be the hour again.
    const cells = [exact(13), exact(12), exact(1), exact(12)];
    const released = releasable(policy, cells, [
      { parent: 0, children: [1, 2] },
      { parent: 1, children: [3] },
    ]);
    expect(released).toEqual([true, false, false, false]);
  });

  it('follows a withheld cell into its other partitions until nothing changes', () => {
    // 0 = the day; 1 = 10:00, 2 = 11:00 (every platform); 3 = (10:00, ios), 4 = (10:00, android),
    // 5 = (11:00, ios), 6 = (11:00, android); 7 = the day on ios, 8 = the day on android.
    const cells = [70, 11, 60, 10, 1, 30, 30, 40, 31].map(exact);
    const released = releasable(policy, cells, [
      { parent: 0, children: [1, 2] },
      { parent: 0, children: [7, 8] },
      { parent: 1, children: [3, 4] },
      { parent: 2, children: [5, 6] },
      { parent: 7, children: [3, 5] },
      { parent: 8, children: [4, 6] },
    ]);
    // 10:00 android's one person takes 10:00 ios with it; the android day minus 11:00 would be
    // that one person, so 11:00 android goes; 11:00 minus ios would then be 11:00 android
    // alone, so 11:00 ios goes; the day and the hours stay.
    expect(released).toEqual([true, true, true, false, false, false, false, true, true]);
  });

  it('ignores a parent under k: it is withheld itself, and all of its children with it', () => {
    expect(decide(family(7, 3, 4))).toEqual([false, false, false]);
  });

  it('widens estimated counts against the release', () => {
    // Exactly, 2,003 - 1,800 - 190 leaves 13 people; within the margin, maybe none.
    const cells = [{ users: 2_003, usersApprox: true }, { users: 1_800, usersApprox: true }, exact(3), exact(190), exact(5)];
    const partitions = [{ parent: 0, children: [1, 2, 3, 4] }];
    expect(releasable(policy, cells, partitions)).toEqual([true, true, false, false, false]);
    expect(releasable(releasePolicy({ k: 10, approximateMargin: 0 }), cells, partitions)).toEqual([true, true, false, true, false]);
  });

  it('refuses a k that is no whole number of users and a margin outside [0, 1)', () => {
    expect(() => releasePolicy({ k: 0, approximateMargin: 0 })).toThrow(RangeError);
    expect(() => releasePolicy({ k: 2.5, approximateMargin: 0 })).toThrow(RangeError);
    expect(() => releasePolicy({ k: 5, approximateMargin: 1 })).toThrow(RangeError);
  });

  it('never leaves a released parent minus its released children as one cell or fewer than k people (disjoint children)', () => {
    // Children disjoint in people, as platforms are: the parent's users are the children's sum.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), (k, sizes) => {
        const parentUsers = sizes.reduce((a, b) => a + b, 0);
        const [parentShown, ...released] = releasable(releasePolicy({ k, approximateMargin: 0 }), [parentUsers, ...sizes].map(exact), [{ parent: 0, children: sizes.map((_, i) => i + 1) }]);
        const withheld = sizes.filter((_, i) => !released[i]);
        const residual = withheld.reduce((a, b) => a + b, 0);
        expect(sizes.filter((users, i) => released[i] && users < k)).toEqual([]);
        // A parent under k is withheld itself; otherwise what it leaves is nobody, or k people in two cells or more.
        expect(!parentShown || withheld.length === 0 || (withheld.length >= 2 && residual >= k)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});
