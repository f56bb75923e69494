/**
 * Which cells of a table of aggregates may be released when the same people can ask for any
 * other table too (PRIVACY.md, "Disclosure control across answers"). A cell is one point of one
 * group: its figures sum the events of its distinct users. Two rules, both needed:
 *
 * 1. A cell of fewer than k distinct users is withheld (not only a group over the whole range:
 *    a one-minute point of one person would otherwise be that person's value).
 * 2. Complementary suppression. A parent cell (the total of a bucket, or a coarser bucket of the
 *    same group) minus the children released beside it leaves exactly the withheld children.
 *    Wherever some children of a released parent are withheld, they must hold at least k users
 *    together, or the smallest released child is withheld with them. Every answer is assumed to
 *    release every parent, so the rule holds across answers, not only within one.
 *
 * The withheld children's users together cannot be counted from the children's counts (a person
 * can be in several of them), so the rule takes the larger of two bounds that need no member ids:
 * the users of any one withheld child, and, since every user of the parent is in some child,
 * parent users - the sum of the released children's users (exact when children are disjoint in
 * people, as platforms are; an underestimate when they are not). Every released child has k
 * users, so withholding the smallest released one always settles a partition. Counts above the
 * distinct sketch's exact range are estimates; they enter the bounds widened by
 * `approximateMargin` (relative) against the release.
 */

export interface ReleaseCell {
  /** Distinct users of the cell. */
  readonly users: number;
  /** Whether `users` is an estimate (above the sketch's exact range). */
  readonly usersApprox: boolean;
}

/** A parent cell and ALL its children along one axis (a dimension, or the finer buckets of a period). */
export interface Partition {
  readonly parent: ReleaseCell;
  /** Indexes into the table's cells. */
  readonly children: readonly number[];
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
   * Per cell of the table, whether it may be released; partitions must list every child that has
   * events. Where cells tie, the earlier is withheld first: order cells the same way every time.
   */
  releasable(cells: readonly ReleaseCell[], partitions: readonly Partition[]): boolean[];
}

export function releasePolicy({ k, approximateMargin }: ReleasePolicyOptions): ReleasePolicy {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number of users, got ${k}`);
  if (!(approximateMargin >= 0 && approximateMargin < 1)) throw new RangeError(`approximateMargin must be in [0, 1), got ${approximateMargin}`);
  const atLeast = (cell: ReleaseCell) => (cell.usersApprox ? Math.floor(cell.users * (1 - approximateMargin)) : cell.users);
  const atMost = (cell: ReleaseCell) => (cell.usersApprox ? Math.ceil(cell.users * (1 + approximateMargin)) : cell.users);

  /** Withholds the smallest released child of `partition` if the withheld ones may hold fewer than k users; true when it did. */
  function complement(cells: readonly ReleaseCell[], partition: Partition, released: boolean[]): boolean {
    // A parent under k is itself withheld, and so is every child of it.
    if (atLeast(partition.parent) < k) return false;
    let shownUsers = 0;
    let withheldUsers = 0;
    let smallest: number | undefined;
    for (const child of partition.children) {
      const cell = cells[child]!;
      if (!released[child]) {
        withheldUsers = Math.max(withheldUsers, atLeast(cell));
        continue;
      }
      shownUsers += atMost(cell);
      // Ties go to the earlier cell, so the same data always withholds the same cells.
      if (smallest === undefined || cell.users < cells[smallest]!.users) smallest = child;
    }
    if (withheldUsers === 0 || withheldUsers >= k || atLeast(partition.parent) - shownUsers >= k || smallest === undefined) return false;
    released[smallest] = false;
    return true;
  }

  return {
    k,
    releasable(cells, partitions) {
      const released = cells.map((cell) => atLeast(cell) >= k);
      // A cell is a child in several partitions (one per axis): withholding it for one can open
      // another, so sweep until nothing changes. Each sweep only withholds, so this ends.
      for (let changed = true; changed; ) {
        changed = false;
        for (const partition of partitions) if (complement(cells, partition, released)) changed = true;
      }
      return released;
    },
  };
}
