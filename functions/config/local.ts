import { z } from 'zod';
import { kAnonymity, optionalString, privacyBudgetEnv, retentionEnv } from './env';

/** The local runtime's configuration (README, "Configuration"). */
export const localEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./.data'),
  DEV_TOKEN: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(16, 'must be at least 16 characters').optional()),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  /** How this runtime's PostgreSQL connections are named in pg_stat_activity, to find (or terminate) them. */
  DATABASE_APPLICATION_NAME: z.string().min(1).max(63).default('analytics-local'),
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  /** Prepended to every Redis key and channel, so several runtimes (or test suites) can share one Redis. */
  REDIS_KEY_PREFIX: z.string().default(''),
  AWS_ENDPOINT_URL: optionalString.pipe(z.url().optional()),
  K_ANONYMITY: kAnonymity,
  STREAM_NAME: z.string().min(1).default('analytics-events'),
  SHARD_COUNT: z.coerce.number().int().min(1).max(64).default(2),
  PSEUDONYM_PEPPER: optionalString.pipe(z.string().regex(/^[0-9a-f]{64,}$/i, 'must be at least 32 bytes of hex').optional()),
  /** Where alert messages link to. */
  DASHBOARD_URL: optionalString.pipe(z.url().optional()),
  /** The critical alert e-mail's sender and recipients, in the emulated mode (SES); the embedded mode writes an outbox file. */
  ALERT_EMAIL_FROM: z.email().default('alerts@example.org'),
  ALERT_EMAIL_TO: z.string().default('on-call@example.org').pipe(z.string().transform((list) => list.split(',').map((address) => address.trim())).pipe(z.array(z.email()).min(1))),
  /**
   * Where interventions go: the app's webhook, signed with INTERVENTION_WEBHOOK_SECRET. Unset: the
   * emulator's EventBridge bus when AWS_ENDPOINT_URL is set, else an outbox file in DATA_DIR.
   */
  INTERVENTION_WEBHOOK_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  INTERVENTION_WEBHOOK_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  ...retentionEnv.shape,
  ...privacyBudgetEnv.shape,
}).superRefine((env, ctx) => {
  // An unsigned webhook would let anyone who finds the app's URL send it interventions.
  if (env.INTERVENTION_WEBHOOK_URL !== undefined && env.INTERVENTION_WEBHOOK_SECRET === undefined) {
    ctx.addIssue({ code: 'custom', path: ['INTERVENTION_WEBHOOK_SECRET'], message: 'must be set with INTERVENTION_WEBHOOK_URL' });
  }
});

export type LocalConfig = z.infer<typeof localEnv>;
