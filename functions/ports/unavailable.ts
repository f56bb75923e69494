/**
 * What an adapter throws when its store cannot be reached (a refused or lost connection, a
 * server shutting down), as opposed to a statement the store refused. The difference matters to
 * the caller: the same call may succeed later, so a stream consumer waits and retries the batch
 * instead of spending its retry budget and dead-lettering good records, and the API answers 503
 * instead of 500.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly transient = true;

  constructor(
    readonly store: string,
    cause: unknown,
  ) {
    super(`${store} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Duck-typed, not `instanceof`: the error may come from another realm (a jest VM context) or
 * across a thread, where only its fields survive.
 */
export const isUnavailable = (error: unknown): boolean => (error as { transient?: unknown } | null)?.transient === true;
