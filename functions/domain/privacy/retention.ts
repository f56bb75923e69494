import { MAX_AGE_MS } from '../events/validate';

/**
 * How long each kind of stored data is kept, in days. Day rollups are the aggregate record and
 * are not purged. An event id must be remembered for as long as ingest still accepts the event
 * (30 days after it happened, MAX_AGE_MS) and a day more for the stream: purged earlier, a resent
 * event would be counted twice. The audit trail is kept six years by default, as HIPAA keeps
 * its required documentation (45 CFR 164.316(b)(2)(i)). Minute rows are kept a week: one minute
 * series spans at most MAX_POINTS_PER_GROUP minutes (6.9 days), the monitor catches up a day of
 * them, and hour and day rows hold what is older. Kept 14 days, they were the largest part of
 * the data folder (382 of 1,013 bytes an event at 1,000,000 of the demo's events, bench/footprint.ts).
 * Resolved alerts (with their notifications) and rule conditions no longer held are kept a year:
 * the operational report compares a period with the one before and a baseline, and the clinic's
 * own record of what was done about an alert is its case notes, not this store.
 */
export interface RetentionPolicy {
  readonly idempotencyKeyDays: number;
  readonly minuteRollupDays: number;
  readonly hourRollupDays: number;
  readonly auditDays: number;
  readonly reportDays: number;
  readonly alertDays: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION: RetentionPolicy = { idempotencyKeyDays: 31, minuteRollupDays: 7, hourRollupDays: 400, auditDays: 2190, reportDays: 365, alertDays: 365 };

/** A month: an alert resolved today stays listed while people still ask about it. */
export const MIN_ALERT_DAYS = 30;

/** A year: an audit trail shorter than that would not cover one review cycle. */
export const MIN_AUDIT_DAYS = 365;

export const MIN_IDEMPOTENCY_KEY_DAYS = MAX_AGE_MS / DAY_MS + 1;

/**
 * Minute rows of minutes before this (epoch ms) are purged: a writer that does not write them
 * (the rollup store's `minutesKeptFrom`) saves writing what the purge deletes.
 */
export function minuteRollupCutoff(policy: Pick<RetentionPolicy, 'minuteRollupDays'>, now: Date): number {
  return now.getTime() - policy.minuteRollupDays * DAY_MS;
}

/** Each kind's cutoff (epoch ms): data from before it is purged. */
export interface PurgeCutoffs {
  readonly idempotencyKeys: number;
  readonly minuteRollups: number;
  readonly hourRollups: number;
  readonly audit: number;
  readonly reports: number;
  readonly alerts: number;
}

export function purgeCutoffs(policy: RetentionPolicy, now: Date): PurgeCutoffs {
  const before = (days: number) => now.getTime() - days * DAY_MS;
  return {
    idempotencyKeys: before(policy.idempotencyKeyDays),
    minuteRollups: minuteRollupCutoff(policy, now),
    hourRollups: before(policy.hourRollupDays),
    audit: before(policy.auditDays),
    reports: before(policy.reportDays),
    alerts: before(policy.alertDays),
  };
}
