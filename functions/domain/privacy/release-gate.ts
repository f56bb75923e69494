/**
 * The one gate every cross-user release passes (DESIGN.md, "Release rules"): a group of fewer
 * than k distinct users is suppressed, and listed as suppressed rather than silently dropped.
 * Metric answers use it today; reports, dashboards, patterns and cohorts are to use it too.
 */
export interface Suppression<Group> {
  readonly group: Group;
  readonly reason: 'k_anonymity';
}

export interface ReleaseGate {
  /** Whether a count of distinct users a group is known to reach (a lower bound) admits it already. */
  settles(atLeast: number): boolean;
  /**
   * Whether a group may be released: when the lower bound `atLeast` settles it, `users` (which may
   * have to merge sketches) is not called.
   */
  admits(atLeast: number, users: () => number): boolean;
  suppression<Group>(group: Group): Suppression<Group>;
}

/** k comes from configuration, which refuses less than 2 (k = 1 would release single users). */
export function releaseGate(k: number): ReleaseGate {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number of users, got ${k}`);
  return {
    settles: (atLeast) => atLeast >= k,
    admits: (atLeast, users) => atLeast >= k || users() >= k,
    suppression: (group) => ({ group, reason: 'k_anonymity' }),
  };
}
