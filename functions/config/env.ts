import { z } from 'zod';
import { DEFAULT_RETENTION, MIN_ALERT_DAYS, MIN_AUDIT_DAYS, MIN_IDEMPOTENCY_KEY_DAYS, type RetentionPolicy } from '../domain/privacy/retention';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses environment variables with a zod schema once, at start-up; a missing or bad value stops
 * start-up with a message naming each variable at fault.
 */
export function parseEnv<Schema extends z.ZodType>(schema: Schema, env: NodeJS.ProcessEnv = process.env): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new ConfigError(`Bad configuration: ${problems.join('; ')}`);
}

/** Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out. */
export const optionalString = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

export const kAnonymity = z.coerce.number().int().min(2).max(1000).default(10);

/** The research dataset's total privacy budget (sequential composition): ε, and δ for Gaussian releases. */
export const privacyBudgetEnv = z.object({
  PRIVACY_BUDGET_EPSILON: z.coerce.number().positive().max(100).default(10),
  PRIVACY_BUDGET_DELTA: z.coerce.number().min(0).max(0.01).default(0.00001),
});

const days = (min: number, fallback: number) => z.coerce.number().int().min(min).max(3650).default(fallback);

/** Retention in days per kind of data (the purge function's and the local runtime's). */
export const retentionEnv = z.object({
  RETENTION_IDEMPOTENCY_KEY_DAYS: days(MIN_IDEMPOTENCY_KEY_DAYS, DEFAULT_RETENTION.idempotencyKeyDays),
  RETENTION_MINUTE_ROLLUP_DAYS: days(1, DEFAULT_RETENTION.minuteRollupDays),
  RETENTION_HOUR_ROLLUP_DAYS: days(1, DEFAULT_RETENTION.hourRollupDays),
  RETENTION_AUDIT_DAYS: days(MIN_AUDIT_DAYS, DEFAULT_RETENTION.auditDays),
  RETENTION_REPORT_DAYS: days(1, DEFAULT_RETENTION.reportDays),
  RETENTION_ALERT_DAYS: days(MIN_ALERT_DAYS, DEFAULT_RETENTION.alertDays),
});

export function retentionPolicy(env: z.infer<typeof retentionEnv>): RetentionPolicy {
  return {
    idempotencyKeyDays: env.RETENTION_IDEMPOTENCY_KEY_DAYS,
    minuteRollupDays: env.RETENTION_MINUTE_ROLLUP_DAYS,
    hourRollupDays: env.RETENTION_HOUR_ROLLUP_DAYS,
    auditDays: env.RETENTION_AUDIT_DAYS,
    reportDays: env.RETENTION_REPORT_DAYS,
    alertDays: env.RETENTION_ALERT_DAYS,
  };
}
