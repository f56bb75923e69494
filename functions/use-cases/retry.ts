import type { Sleep } from '../ports';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** The wait before try `attempt` (2 and on). */
  readonly delayMs: (attempt: number) => number;
  /** Whether a failure may be tried again; every one by default. */
  readonly retryable?: (error: unknown) => boolean;
  /** Told of each failed try, the last included. */
  readonly onFailure?: (error: unknown, attempt: number) => void;
}

export type Attempted<T> = { readonly ok: true; readonly value: T; readonly attempts: number } | { readonly ok: false; readonly error: unknown; readonly attempts: number };

/** Exponential backoff: `firstMs` before the second try, doubling after. */
export const doubling =
  (firstMs: number, maxMs = Infinity) =>
  (attempt: number): number =>
    Math.min(firstMs * 2 ** (attempt - 2), maxMs);

/**
 * `work` tried until it succeeds, fails in a way that may not be retried, or has had its
 * attempts. Never throws: the answer says which, and after how many tries.
 */
export async function attempt<T>(policy: RetryPolicy, sleep: Sleep, work: () => Promise<T>): Promise<Attempted<T>> {
  for (let tried = 1; ; tried += 1) {
    if (tried > 1) await sleep(policy.delayMs(tried));
    try {
      return { ok: true, value: await work(), attempts: tried };
    } catch (error) {
      policy.onFailure?.(error, tried);
      if (tried >= policy.attempts || !(policy.retryable?.(error) ?? true)) return { ok: false, error, attempts: tried };
    }
  }
}
