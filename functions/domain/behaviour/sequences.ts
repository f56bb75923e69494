import type { Step } from './pattern-features';

/*
 * Behaviour sequences that precede drop-out: runs of consecutive steps (n-grams of step tokens)
 * among each user's latest steps, as association rules "run -> drop-out" with their support,
 * confidence and lift. Counted per user, not per occurrence: `users` counts people.
 */

export interface SequenceOptions {
  /** The latest steps of each user that are searched: what happened just before the user stopped (or now). */
  readonly window: number;
  readonly maxLength: number;
  /** Least share of all users a run must be seen in. */
  readonly minSupport: number;
  /** Rules returned, highest lift first. */
  readonly limit: number;
}

export const SEQUENCE_DEFAULTS: SequenceOptions = { window: 6, maxLength: 3, minSupport: 0.02, limit: 20 };

export interface SequenceUser {
  readonly steps: readonly Step[];
  readonly droppedOut: boolean;
}

export interface SequenceRule {
  readonly steps: readonly string[];
  /** Users whose window holds the run. */
  readonly users: number;
  /** Of them, users who dropped out. */
  readonly droppedOut: number;
  /** users / all users. */
  readonly support: number;
  /** droppedOut / users: P(drop-out | run). */
  readonly confidence: number;
  /** confidence / P(drop-out). */
  readonly lift: number;
}

/** No session for this long and the user counts as dropped out. */
export const DROPOUT_DAYS = 14;

/** The distinct runs of 1..maxLength consecutive tokens in a user's window, joined by a separator no token holds. */
function runsOf(tokens: readonly string[], maxLength: number): Set<string> {
  const runs = new Set<string>();
  for (let start = 0; start < tokens.length; start += 1) {
    for (let length = 1; length <= maxLength && start + length <= tokens.length; length += 1) runs.add(tokens.slice(start, start + length).join('\n'));
  }
  return runs;
}

export function mineSequences(users: readonly SequenceUser[], options: SequenceOptions = SEQUENCE_DEFAULTS): SequenceRule[] {
  const dropouts = users.filter((user) => user.droppedOut).length;
  if (users.length === 0 || dropouts === 0) return [];
  const counts = new Map<string, { users: number; droppedOut: number }>();
  for (const user of users) {
    for (const run of runsOf(user.steps.slice(-options.window).map(([, token]) => token), options.maxLength)) {
      const count = counts.get(run) ?? { users: 0, droppedOut: 0 };
      count.users += 1;
      if (user.droppedOut) count.droppedOut += 1;
      counts.set(run, count);
    }
  }
  const baseRate = dropouts / users.length;
  return [...counts]
    .filter(([, count]) => count.users / users.length >= options.minSupport && count.droppedOut > 0)
    .map(([run, count]): SequenceRule => {
      const confidence = count.droppedOut / count.users;
      return { steps: run.split('\n'), users: count.users, droppedOut: count.droppedOut, support: count.users / users.length, confidence, lift: confidence / baseRate };
    })
    .sort((a, b) => b.lift - a.lift || b.users - a.users || a.steps.join().localeCompare(b.steps.join()))
    .slice(0, options.limit);
}
