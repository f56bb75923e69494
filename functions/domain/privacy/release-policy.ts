/**
 * Which cells of a table of aggregates may be released when the same people can ask for any
 * other table too (PRIVACY.md, "Disclosure control across answers"). A cell is one point of one
 * group: its figures sum the events of its distinct users. A partition is a cell (the parent)
 * and the cells that sum to it along one axis (its groups, or its finer buckets). Rules:
 *
 * 1. A cell of fewer than k distinct users is withheld (a one-minute point of one person would
 *    otherwise be that person's value).
 * 2. Where a released parent has withheld children, parent minus the released children is their
 *    sum: that sum must cover at least k users, and must not be a single withheld cell (which
 *    would then be known, and with it whatever it was withheld to cover elsewhere).
 * 3. A withheld parent must not be the sum of released children: one of them is withheld too.
 *
 * Where a rule fails, the smallest released child is withheld, so figures at coarser levels
 * survive and decisions only flow from parents to children. The table is swept until nothing
 * changes; each sweep only withholds, so it ends.
 *
 * The withheld children's users together cannot be counted from the children's counts (a person
 * can be in several of them), so rule 2 takes the larger of two bounds that need no member ids:
 * the users of any one withheld child, and, since every user of the parent is in some child,
 * parent users - the sum of the released children's users (exact when children are disjoint in
 * people, as platforms are; an underestimate when they are not). Counts above the distinct
 * sketch's exact range are estimates; they enter the bounds widened by `approximateMargin`
 * (relative) against the release.
 *
 * These are the classic conditions of cell suppression, each partition on its own. Several
 * partitions combined (a rectangle of withheld cells in a two-way table) can narrow a withheld
 * cell down without singling it out; an exact audit by linear programming is not done.
 */

/**
 * The cells of a table, a column per figure (a 30-day answer decides tens of thousands of cells:
 * an object per cell and per partition was most of its time and garbage).
 */
export interface ReleaseCells {
  /** Distinct users of each cell. */
  readonly users: ArrayLike<number>;
  /** Per cell, 1 where `users` is an estimate (above the sketch's exact range), else 0. */
  readonly usersApprox: ArrayLike<number>;
}

/**
 * Partitions, each a parent cell and ALL its children along one axis (a dimension, or the finer
 * buckets of a period), as indexes into the table's cells: partition p is `parents[p]` and the
 * children from `children[starts[p]]` to before `children[starts[p + 1]]`.
 */
export interface Partitions {
  readonly parents: ArrayLike<number>;
  /** One more than there are partitions. */
  readonly starts: ArrayLike<number>;
  readonly children: ArrayLike<number>;
}

/** The one entry an answer lists when it withheld anything; it names no group and counts nothing. */
export interface Withheld {
  readonly reason: 'k_anonymity';
}

export const WITHHELD: Withheld = Object.freeze({ reason: 'k_anonymity' });

export interface ReleasePolicyOptions {
  readonly k: number;
  /** Relative error allowed for an estimated count (several standard errors of the sketch). */
  readonly approximateMargin: number;
}

export interface ReleasePolicy {
  readonly k: number;
  /**
   * Per cell of the table, 1 where it may be released; partitions must list every child that
   * has events. Where cells tie, the earlier is withheld first: order cells the same way every time.
   */
  releasable(cells: ReleaseCells, partitions: Partitions): Uint8Array;
}

export function releasePolicy({ k, approximateMargin }: ReleasePolicyOptions): ReleasePolicy {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number of users, got ${k}`);
  if (!(approximateMargin >= 0 && approximateMargin < 1)) throw new RangeError(`approximateMargin must be in [0, 1), got ${approximateMargin}`);

  return {
    k,
    releasable({ users, usersApprox }, { parents, starts, children }) {
      const cellCount = users.length;
      // Each cell's users as the bounds count them.
      const atLeast = new Float64Array(cellCount);
      const atMost = new Float64Array(cellCount);
      const released = new Uint8Array(cellCount);
      for (let cell = 0; cell < cellCount; cell++) {
        const count = users[cell]!;
        const approximate = usersApprox[cell] === 1;
        atLeast[cell] = approximate ? Math.floor(count * (1 - approximateMargin)) : count;
        atMost[cell] = approximate ? Math.ceil(count * (1 + approximateMargin)) : count;
        released[cell] = atLeast[cell]! >= k ? 1 : 0;
      }
      // A cell is a child in several partitions (one per axis): withholding it for one can open
      // another, so sweep until nothing changes. Each sweep only withholds, so this ends.
      for (let changed = true; changed; ) {
        changed = false;
        for (let partition = 0; partition + 1 < starts.length; partition++) {
          const parent = parents[partition]!;
          // A parent under k is itself withheld, and so is every child of it.
          if (atLeast[parent]! < k) continue;
          let shownUsers = 0;
          let withheld = 0;
          let withheldUsers = 0;
          let smallest = -1;
          for (let at = starts[partition]!, end = starts[partition + 1]!; at < end; at++) {
            const child = children[at]!;
            if (released[child] === 0) {
              withheld++;
              withheldUsers = Math.max(withheldUsers, atLeast[child]!);
              continue;
            }
            shownUsers += atMost[child]!;
            // Ties go to the earlier cell, so the same data always withholds the same cells.
            if (smallest < 0 || users[child]! < users[smallest]!) smallest = child;
          }
          // Rule 2 for a released parent, rule 3 for a withheld one; where it fails, the smallest released child goes.
          const holds = released[parent] === 1 ? withheld === 0 || (withheld >= 2 && Math.max(withheldUsers, atLeast[parent]! - shownUsers) >= k) : withheld > 0;
          if (holds || smallest < 0) continue;
          released[smallest] = 0;
          changed = true;
        }
      }
      return released;
    },
  };
}
