import { MAX_AGE_MS } from '../events/validate';

/**
 * How long each kind of stored data is kept, in days. Day rollups are the aggregate record and
 * are not purged. An event id must be remembered for as long as ingest still accepts the event
 * (30 days after it happened, MAX_AGE_MS) and a day more for the stream: purged earlier, a resent
 * event would be counted twice.
 */
export interface RetentionPolicy {
  readonly idempotencyKeyDays: number;
  readonly minuteRollupDays: number;
  readonly hourRollupDays: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION: RetentionPolicy = { idempotencyKeyDays: 31, minuteRollupDays: 14, hourRollupDays: 400 };

export const MIN_IDEMPOTENCY_KEY_DAYS = MAX_AGE_MS / DAY_MS + 1;

/** Each kind's cutoff (epoch ms): data from before it is purged. */
export interface PurgeCutoffs {
  readonly idempotencyKeys: number;
  readonly minuteRollups: number;
  readonly hourRollups: number;
}

export function purgeCutoffs(policy: RetentionPolicy, now: Date): PurgeCutoffs {
  const before = (days: number) => now.getTime() - days * DAY_MS;
  return {
    idempotencyKeys: before(policy.idempotencyKeyDays),
    minuteRollups: before(policy.minuteRollupDays),
    hourRollups: before(policy.hourRollupDays),
  };
}
