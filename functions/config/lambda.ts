import { z } from 'zod';
import { kAnonymity, optionalString, parseEnv, privacyBudgetEnv, retentionEnv } from './env';
import { postgresDatabase, type SqlDatabase } from '../adapters/pg/database';
import { dynamoDbClient, secretsManagerClient, sesClient, snsClient } from '../adapters/aws/clients';
import { DynamoRecordKeyStore } from '../adapters/aws/dynamo-record-keys';
import { SesChannel } from '../adapters/aws/ses-channel';
import { SnsChannel } from '../adapters/aws/sns-channel';
import { DashboardChannel } from '../adapters/dashboard-channel';
import type { LiveStore } from '../ports';
import type { NotificationChannel } from '../ports/notifications';
import { cachedSecrets, type SecretReader } from '../adapters/aws/secrets';
import { tracedDatabase } from '../adapters/aws/tracing';
import { hs256Verifier, type BearerVerifier } from '../handlers/http/bearer';
import { mirroredJwksVerifier } from '../adapters/mirrored-jwks-verifier';
import type { Logger } from '../adapters/log';

/**
 * Configuration of the Lambda functions. Each function parses only the variables it uses, at cold
 * start, and stops with a message naming a missing or bad one.
 */
const databaseEnv = z
  .object({
    DATABASE_URL: optionalString,
    DATABASE_URL_SECRET_ARN: optionalString,
    DATABASE_SECRET_ARN: optionalString,
    DATABASE_HOST: optionalString,
    DATABASE_NAME: z.string().default('analytics'),
  })
  .refine(
    (env) => env.DATABASE_URL !== undefined || env.DATABASE_URL_SECRET_ARN !== undefined || (env.DATABASE_SECRET_ARN !== undefined && env.DATABASE_HOST !== undefined),
    {
      message: 'set DATABASE_SECRET_ARN with DATABASE_HOST, or DATABASE_URL_SECRET_ARN, or DATABASE_URL',
      path: ['DATABASE_URL'],
    },
  );

export { METRICS_NAMESPACE } from '../ports/anomalies';

const pepperEnv = z
  .object({ PEPPER_SECRET_ARN: optionalString, PSEUDONYM_PEPPER: optionalString })
  .refine((env) => env.PEPPER_SECRET_ARN !== undefined || env.PSEUDONYM_PEPPER !== undefined, {
    message: 'set PEPPER_SECRET_ARN (or PSEUDONYM_PEPPER, hex, outside AWS)',
    path: ['PEPPER_SECRET_ARN'],
  });

export const ingestEnv = z.object({ STREAM_NAME: z.string().min(1), CONSENT_TABLE_NAME: z.string().min(1) });

/** The table of the keys that seal stream records: ingest makes them, consumers read them, erasure deletes them. */
const recordKeysEnv = z.object({ RECORD_KEY_TABLE_NAME: z.string().min(1) });

export function recordKeyStore(env: NodeJS.ProcessEnv = process.env): DynamoRecordKeyStore {
  return new DynamoRecordKeyStore(dynamoDbClient(), parseEnv(recordKeysEnv, env).RECORD_KEY_TABLE_NAME);
}

/** The import reads consent to admit events; the file's bucket and key come with its event. */
/** Minute rows past their retention are not written (the purge would delete them): history and late events go to their hours and days only. */
const minuteRetentionEnv = retentionEnv.pick({ RETENTION_MINUTE_ROLLUP_DAYS: true });

export const importEnv = z.object({ CONSENT_TABLE_NAME: z.string().min(1) }).extend(minuteRetentionEnv.shape);

/** The model function keeps each model's artefact in the model bucket. */
export const modelEnv = z.object({ MODEL_BUCKET: z.string().min(1), K_ANONYMITY: kAnonymity });

export const privacyEnv = z.object({ CONSENT_TABLE_NAME: z.string().min(1), REDIS_URL: z.string().min(1) });

export const aggregateEnv = z.object({ REDIS_URL: z.string().min(1) }).extend(minuteRetentionEnv.shape);

/** Detect and monitor notify: the dashboard feed is in Redis, and messages link to the dashboard. */
export const notifyingEnv = z.object({ REDIS_URL: z.string().min(1), DASHBOARD_URL: z.url() });

export const alertsEnv = z.object({ K_ANONYMITY: kAnonymity });

/** Detect sends interventions to the product's EventBridge bus (lib/monitoring.ts). */
export const detectEnv = z.object({ INTERVENTION_BUS_NAME: z.string().min(1) });

/** The roll-up decides each day it packs for the k of metric answers. */
export const rollUpEnv = z.object({ K_ANONYMITY: kAnonymity });

// The hour rows' retention: local days, weeks and months are summed from hours, so none older is answered.
// The report job queue and schedule group come from Reporting.bindTo (lib/reporting.ts).
export const queryEnv = z.object({
  K_ANONYMITY: kAnonymity,
  REPORT_BUCKET: z.string().min(1),
  ...privacyBudgetEnv.shape,
  RETENTION_HOUR_ROLLUP_DAYS: retentionEnv.shape.RETENTION_HOUR_ROLLUP_DAYS,
  // No dashboard widget reaches back past the minute rows.
  ...minuteRetentionEnv.shape,
  REPORT_QUEUE_URL: z.url(),
  REPORT_QUEUE_ARN: z.string().startsWith('arn:'),
  REPORT_SCHEDULE_GROUP: z.string().min(1),
  REPORT_SCHEDULER_ROLE_ARN: z.string().startsWith('arn:'),
});

/**
 * The report function (lib/reporting.ts): the report bucket, the SES sender (none: reports are
 * kept but not mailed), the owners' topic, k and the hour rollups' retention, the consumers'
 * dead-letter queues; its database like every function's.
 */
export const reportEnv = z.object({
  K_ANONYMITY: kAnonymity,
  RETENTION_HOUR_ROLLUP_DAYS: retentionEnv.shape.RETENTION_HOUR_ROLLUP_DAYS,
  REPORT_BUCKET: z.string().min(1),
  // The stream consumers' on-failure queues, whose dead letters the operations report lists.
  AGGREGATE_DLQ_URL: z.url(),
  DETECT_DLQ_URL: z.url(),
  REPORT_EMAIL_FROM: optionalString.pipe(z.email().optional()),
  REPORT_OWNER_TOPIC_ARN: z.string().startsWith('arn:'),
});

let secrets: SecretReader | undefined;
/** One cache of secrets per execution environment, so every read shares its client and max age. */
const readSecret: SecretReader = (secretId, options) => (secrets ??= cachedSecrets(secretsManagerClient()))(secretId, options);

/** Set only in the LocalStack variant, whose function URLs have no JWT authorizer in front: the secret holding their HS256 key. */
const functionUrlEnv = z.object({ FUNCTION_URL_JWT_SECRET_ARN: optionalString });

/**
 * The bearer-token check of the LocalStack variant's function URLs; none behind API Gateway. The
 * key is read through the secrets cache on each request, so a new one reaches warm functions
 * within the cache's max age, as the database password does.
 */
export function functionUrlVerifier(env: NodeJS.ProcessEnv = process.env, read: SecretReader = readSecret): BearerVerifier | undefined {
  const secretId = parseEnv(functionUrlEnv, env).FUNCTION_URL_JWT_SECRET_ARN;
  if (secretId === undefined) return undefined;
  return async (token) => hs256Verifier(await read(secretId))(token);
}

/** The audience the API accepts, comma-separated. */
const audienceList = z
  .string()
  .transform((list) => list.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''))
  .refine((list) => list.length > 0, 'must name at least one client or audience');

/** The key mirror (lib/live-stream.ts): whose keys it copies, for which audience, and the secret it keeps them in. */
export const jwksMirrorEnv = z.object({ JWT_ISSUER: z.url(), JWT_AUDIENCE: audienceList, JWKS_SECRET_ARN: z.string().startsWith('arn:') });

/**
 * The live function (lib/live-stream.ts): Redis, k, and whose tokens it accepts, as the API's
 * authorizer does: the stack's user pool (USER_POOL_ID) or an external issuer (JWT_ISSUER), for
 * the audience mirrored with the keys (JWKS_SECRET_ARN).
 */
export const liveEnv = z
  .object({
    REDIS_URL: z.string().min(1),
    K_ANONYMITY: kAnonymity,
    JWKS_SECRET_ARN: z.string().startsWith('arn:'),
    USER_POOL_ID: optionalString,
    JWT_ISSUER: optionalString.pipe(z.url().optional()),
  })
  .refine((env) => (env.USER_POOL_ID === undefined) !== (env.JWT_ISSUER === undefined), {
    message: "set USER_POOL_ID (the stack's user pool) or JWT_ISSUER (an external issuer), not both",
    path: ['USER_POOL_ID'],
  });

/** The live function's token check, against what the mirror keeps (read through the secrets cache, so a rotated key arrives within its max age). */
export function liveTokenVerifier(config: z.infer<typeof liveEnv>, read: SecretReader = readSecret): BearerVerifier {
  const issuer = config.USER_POOL_ID !== undefined ? { userPoolId: config.USER_POOL_ID } : { issuer: config.JWT_ISSUER as string };
  return mirroredJwksVerifier(issuer, () => read(config.JWKS_SECRET_ARN));
}

/**
 * The pepper as bytes: from Secrets Manager in AWS, from the environment elsewhere. Read at cold
 * start only: a new pepper gives every person new pseudonyms, so it is never rotated under a
 * running function.
 */
export async function loadPepper(env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  const config = parseEnv(pepperEnv, env);
  const value = config.PSEUDONYM_PEPPER ?? (await readSecret(config.PEPPER_SECRET_ARN as string));
  return Buffer.from(value, /^[0-9a-f]+$/i.test(value) ? 'hex' : 'utf8');
}

/**
 * PostgreSQL through RDS Proxy with the cluster's secret (TLS required by the proxy); in the
 * LocalStack variant, the compose file's database by the URL in its secret; or a plain
 * `DATABASE_URL` (a bundled handler run by hand). The password is read for each new connection
 * from the secrets cache, so a rotated one reaches warm functions. `logger` takes the pool's own
 * warnings, so in Lambda they carry the invocation's request id.
 */
export async function connectDatabase(options: { readonly logger?: Logger; readonly env?: NodeJS.ProcessEnv; readonly read?: SecretReader } = {}): Promise<SqlDatabase> {
  const { logger, env = process.env, read = readSecret } = options;
  const config = parseEnv(databaseEnv, env);
  // Named after the function, so its connections can be told apart in pg_stat_activity.
  const pool = { max: 2, applicationName: env['AWS_LAMBDA_FUNCTION_NAME']?.slice(0, 63), logger };
  if (config.DATABASE_URL_SECRET_ARN !== undefined) {
    const urlSecretId = config.DATABASE_URL_SECRET_ARN;
    const urlOf = async (fresh: boolean) => new URL(await read(urlSecretId, { fresh }));
    const url = await urlOf(false);
    url.password = '';
    return tracedDatabase(postgresDatabase(url.toString(), { ...pool, password: async (fresh) => decodeURIComponent((await urlOf(fresh)).password) }));
  }
  if (config.DATABASE_URL !== undefined) return tracedDatabase(postgresDatabase(config.DATABASE_URL, pool));
  const secretId = config.DATABASE_SECRET_ARN as string;
  const credentials = async (fresh: boolean) => JSON.parse(await read(secretId, { fresh })) as { username: string; password: string };
  // Single-user rotation changes the password, never the user name.
  const url = new URL(`postgres://${config.DATABASE_HOST}:5432/${config.DATABASE_NAME}`);
  url.username = encodeURIComponent((await credentials(false)).username);
  url.searchParams.set('sslmode', 'require');
  return tracedDatabase(postgresDatabase(url.toString(), { ...pool, password: async (fresh) => (await credentials(fresh)).password }));
}

/** What `Alerting.bindTo` (lib/alerting.ts) sets: the topics always, the e-mail when the stack has a sender. */
export const deliveryEnv = z
  .object({
    ALERT_TOPIC_CRITICAL_ARN: z.string().min(1),
    ALERT_TOPIC_WARNING_ARN: z.string().min(1),
    ALERT_TOPIC_ESCALATION_ARN: z.string().min(1),
    ALERT_TOPIC_CLINICIAN_ARN: z.string().min(1),
    ALERT_EMAIL_TEMPLATE: optionalString,
    ALERT_EMAIL_FROM: optionalString,
    ALERT_EMAIL_TO: optionalString,
  })
  .refine(
    (env) => {
      const set = [env.ALERT_EMAIL_TEMPLATE, env.ALERT_EMAIL_FROM, env.ALERT_EMAIL_TO].filter((v) => v !== undefined).length;
      return set === 0 || set === 3;
    },
    {
      message: 'set ALERT_EMAIL_TEMPLATE, ALERT_EMAIL_FROM and ALERT_EMAIL_TO together, or none of them',
      path: ['ALERT_EMAIL_FROM'],
    },
  );

/**
 * The notification channels of a function in AWS: SNS and the dashboard feed always, SES e-mail
 * when configured (without it a rule routed to `email` is reported undelivered, not dropped).
 */
export function deliveryChannels(live: LiveStore, env: NodeJS.ProcessEnv = process.env): NotificationChannel[] {
  const config = parseEnv(deliveryEnv, env);
  const channels: NotificationChannel[] = [
    new SnsChannel(snsClient(), { critical: config.ALERT_TOPIC_CRITICAL_ARN, warning: config.ALERT_TOPIC_WARNING_ARN, escalation: config.ALERT_TOPIC_ESCALATION_ARN, clinician: config.ALERT_TOPIC_CLINICIAN_ARN }),
    new DashboardChannel(live),
  ];
  if (config.ALERT_EMAIL_TEMPLATE !== undefined && config.ALERT_EMAIL_FROM !== undefined && config.ALERT_EMAIL_TO !== undefined) {
    const to = config.ALERT_EMAIL_TO.split(',').map((address) => address.trim());
    channels.push(new SesChannel(sesClient(), { templateName: config.ALERT_EMAIL_TEMPLATE, from: config.ALERT_EMAIL_FROM, to }));
  }
  return channels;
}
