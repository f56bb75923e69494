import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_RETENTION, MIN_ALERT_DAYS, MIN_AUDIT_DAYS, MIN_IDEMPOTENCY_KEY_DAYS } from '../functions/domain/privacy/retention';
import type { Node } from 'constructs';
import { z } from 'zod';

// Values passed with `-c key=value` arrive as strings, values from cdk.json or tests as JSON
// types: every schema below accepts both so the same key works from either place.
const integer = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z.number({ error: 'must be a number' }).int('must be an integer').min(min).max(max),
  );

const decimal = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number({ error: 'must be a number' }).min(min).max(max));

const flag = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : v),
  z.boolean({ error: "must be true or false" }),
);

const optionalText = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const optionalEmail = () => optionalText(z.email('must be an e-mail address'));
// E.164 is what SNS SMS accepts; anything else fails at deploy, later and less clearly.
const optionalPhone = () => optionalText(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +447700900123'));

const logRetentions = new Set<number>(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'),
);

const schema = z
  .object({
    target: z.enum(['aws', 'localstack']).default('aws'),
    // k = 1 would release per-user figures, which is exactly what k-anonymity exists to stop.
    kAnonymity: integer(2, 1000).default(10),
    reportRetentionDays: integer(1, 3650).default(365),
    // An event id is remembered while ingest still accepts the event (30 days) and a day more.
    idempotencyKeyRetentionDays: integer(MIN_IDEMPOTENCY_KEY_DAYS, 3650).default(DEFAULT_RETENTION.idempotencyKeyDays),
    minuteRollupRetentionDays: integer(1, 3650).default(DEFAULT_RETENTION.minuteRollupDays),
    hourRollupRetentionDays: integer(1, 3650).default(DEFAULT_RETENTION.hourRollupDays),
    auditRetentionDays: integer(MIN_AUDIT_DAYS, 3650).default(DEFAULT_RETENTION.auditDays),
    alertRetentionDays: integer(MIN_ALERT_DAYS, 3650).default(DEFAULT_RETENTION.alertDays),
    // The research dataset's total differential-privacy budget (sequential composition).
    privacyBudgetEpsilon: decimal(0.001, 100).default(10),
    privacyBudgetDelta: decimal(0, 0.01).default(0.00001),
    logRetentionDays: integer(1, 3653)
      .refine((d) => logRetentions.has(d), 'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, ...)')
      .default(30),
    alertEmail: optionalEmail(),
    alertPhone: optionalPhone(),
    // The secondary on-call, whom escalations page.
    escalationEmail: optionalEmail(),
    escalationPhone: optionalPhone(),
    // Where alert messages link to: the clinicians' dashboard. Unset, the address of the web app
    // the stack hosts (a placeholder on LocalStack, which hosts none).
    dashboardUrl: optionalText(z.url('must be a URL')),
    // The web app's own name instead of CloudFront's, with its ACM certificate, which CloudFront
    // takes from us-east-1 only (both or neither). Only with a certificate of its own does the
    // distribution refuse TLS older than 1.2.
    webDomainName: optionalText(z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a lower-case domain name such as analytics.example.org')),
    webCertificateArn: optionalText(z.string().regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/, 'must be the ARN of an ACM certificate in us-east-1 (the only region CloudFront takes certificates from)')),
    // The hosted sign-in's `<prefix>.auth.<region>.amazoncognito.com`; unset, one unique to the stack.
    signInDomainPrefix: optionalText(
      z
        .string()
        .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits and inner hyphens, at most 63')
        .refine((p) => !/aws|amazon|cognito/.test(p), 'must not contain "aws", "amazon" or "cognito" (Cognito refuses them)'),
    ),
    // The SES sender and recipients of the critical alert e-mail (both or neither).
    alertEmailFrom: optionalEmail(),
    alertEmailTo: optionalText(
      z
        .string()
        .transform((v) => v.split(',').map((a) => a.trim()))
        // Refined as a whole so the error names the key, not the position in the list.
        .refine((list) => list.every((a) => z.email().safeParse(a).success), 'must be comma-separated e-mail addresses'),
    ),
    // The sender of report e-mail (a verified SES identity); without it reports are mailed from
    // alertEmailFrom, and without either they are kept for download but not mailed.
    reportEmailFrom: optionalEmail(),
    // Reserved for each scheduled function (roll-up, purge, migrate, monitor) only when set: a new
    // account's small concurrency quota refuses a deploy that reserves any. Their code keeps
    // them single-flight without it (AnalyticsStack.scheduledFunctions).
    scheduledFunctionConcurrency: integer(1, 100).optional(),
    // 0 means on-demand capacity; a positive count provisions that many shards.
    shardCount: integer(0, 500).default(0),
    jwtIssuer: optionalText(z.url('must be a URL')),
    jwtAudience: optionalText(z.string().min(1)),
    throttleRateLimit: integer(1, 10000).default(100),
    throttleBurstLimit: integer(1, 5000).default(200),
    deletionProtection: flag.default(true),
    databaseUrl: z.string().default('postgres://postgres:postgres@host.docker.internal:5432/analytics'),
    redisUrl: z.string().default('redis://host.docker.internal:6379'),
    // LocalStack only: the function URLs have no JWT authorizer, so the handlers check HS256
    // tokens signed with this (`npm run token -- --secret ...`). Never deployed to AWS.
    functionUrlJwtSecret: z.string().min(16, 'must be at least 16 characters').default('localstack-development-only-secret'),
  })
  .superRefine((s, ctx) => {
    // A JWT issuer without its audience would accept tokens minted for any client of that issuer.
    if (s.jwtIssuer !== undefined && s.jwtAudience === undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwtAudience'], message: 'is required when jwtIssuer is set' });
    }
    if (s.jwtAudience !== undefined && s.jwtIssuer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwtIssuer'], message: 'is required when jwtAudience is set' });
    }
    // A sender with nobody to send to, or recipients with no sender, would deploy an e-mail that never goes out.
    if (s.alertEmailFrom !== undefined && s.alertEmailTo === undefined) {
      ctx.addIssue({ code: 'custom', path: ['alertEmailTo'], message: 'is required when alertEmailFrom is set' });
    }
    if (s.alertEmailTo !== undefined && s.alertEmailFrom === undefined) {
      ctx.addIssue({ code: 'custom', path: ['alertEmailFrom'], message: 'is required when alertEmailTo is set' });
    }
    // A name without its certificate cannot be served; a certificate without a name serves nothing.
    if (s.webDomainName !== undefined && s.webCertificateArn === undefined) {
      ctx.addIssue({ code: 'custom', path: ['webCertificateArn'], message: 'is required when webDomainName is set' });
    }
    if (s.webCertificateArn !== undefined && s.webDomainName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['webDomainName'], message: 'is required when webCertificateArn is set' });
    }
  });

export type Settings = z.infer<typeof schema>;
export const SETTING_KEYS = Object.keys(schema.shape) as readonly (keyof Settings)[];

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Validates raw context values; throws a SettingsError naming every bad key. */
export function parseSettings(raw: Readonly<Record<string, unknown>>): Settings {
  const picked = Object.fromEntries(SETTING_KEYS.map((k) => [k, raw[k]]));
  const result = schema.safeParse(picked);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `context "${i.path.join('.')}" ${i.message} (got ${JSON.stringify(raw[String(i.path[0])])})`);
  throw new SettingsError(`Invalid CDK context: ${problems.join('; ')}`);
}

/** Reads every setting from CDK context (cdk.json, `-c`, or `new App({ context })`). */
export function settingsFromContext(node: Node): Settings {
  return parseSettings(Object.fromEntries(SETTING_KEYS.map((k) => [k, node.tryGetContext(k)])));
}
