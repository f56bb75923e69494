/**
 * The k-anonymity threshold for a release of one figure over one set of people (a research
 * export, a line of the research report): fewer than k distinct users and it is suppressed.
 * Tables of cells that other answers can be set against (metric answers) go through the release
 * policy (`release-policy.ts`), which adds complementary suppression.
 */
export interface ReleaseGate {
  /** Whether a group of `users` distinct users may be released. */
  settles(users: number): boolean;
}

/** k comes from configuration, which refuses less than 2 (k = 1 would release single users). */
export function releaseGate(k: number): ReleaseGate {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number of users, got ${k}`);
  return { settles: (users) => users >= k };
}
