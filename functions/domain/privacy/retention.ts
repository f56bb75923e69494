import { MAX_AGE_MS } from '../events/validate';

/**
 * How long each kind of stored data is kept, in days. Day rollups are the aggregate record and
 * are not purged. An event id must be remembered for as long as ingest still accepts the event
 * (30 days after it happened, MAX_AGE_MS) and a day more for the stream: purged earlier, a resent
 * event would be counted twice. The audit trail is kept six years by default, as HIPAA keeps
 * its required documentation (45 CFR 164.316(b)(2)(i)).
 */
export interface RetentionPolicy {
  readonly idempotencyKeyDays: number;
  readonly minuteRollupDays: number;
  readonly hourRollupDays: number;
  readonly auditDays: number;
  readonly reportDays: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION: RetentionPolicy = { idempotencyKeyDays: 31, minuteRollupDays: 14, hourRollupDays: 400, auditDays: 2190, reportDays: 365 };

/** A year: an audit trail shorter than that would not cover one review cycle. */
export const MIN_AUDIT_DAYS = 365;

export const MIN_IDEMPOTENCY_KEY_DAYS = MAX_AGE_MS / DAY_MS + 1;

/** Each kind's cutoff (epoch ms): data from before it is purged. */
export interface PurgeCutoffs {
  readonly idempotencyKeys: number;
  readonly minuteRollups: number;
  readonly hourRollups: number;
  readonly audit: number;
  readonly reports: number;
}

export function purgeCutoffs(policy: RetentionPolicy, now: Date): PurgeCutoffs {
  const before = (days: number) => now.getTime() - days * DAY_MS;
  return {
    idempotencyKeys: before(policy.idempotencyKeyDays),
    minuteRollups: before(policy.minuteRollupDays),
    hourRollups: before(policy.hourRollupDays),
    audit: before(policy.auditDays),
    reports: before(policy.reportDays),
  };
}
