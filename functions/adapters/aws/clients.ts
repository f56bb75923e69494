import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { lambdaTracer } from './tracing';

/**
 * The one place AWS SDK clients are built, so every client shares retry, timeouts, region and
 * endpoint handling. Adding a service is one line at the end. Every SDK package declares
 * `sideEffects: false`, so a Lambda bundle keeps only the clients it calls.
 */
export interface AwsClientOptions {
  /** Overrides `AWS_ENDPOINT_URL` (tests point clients at moto without touching the environment). */
  readonly endpoint?: string;
  readonly region?: string;
  /** SDK attempts per call, the first one included. */
  readonly maxAttempts?: number;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** The part of a v3 client's configuration every client accepts. */
export interface SharedClientConfig {
  region: string;
  maxAttempts: number;
  requestHandler: NodeHttpHandler;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const DEFAULTS = {
  region: 'us-east-1',
  // A Lambda has seconds, not minutes: a few quick attempts, then the caller's own policy decides.
  maxAttempts: 3,
  connectionTimeoutMs: 2_000,
  requestTimeoutMs: 5_000,
} as const;

// Emulators (moto, LocalStack) accept any signature, but the SDK refuses to sign without one.
const EMULATOR_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export function sharedClientConfig(options: AwsClientOptions = {}): SharedClientConfig {
  const env = options.env ?? process.env;
  const config: SharedClientConfig = {
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULTS.region,
    maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    }),
  };
  // Without an explicit endpoint the SDK reads AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) itself.
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  const emulated = (options.endpoint ?? env.AWS_ENDPOINT_URL) !== undefined;
  if (emulated && !hasConfiguredCredentials(env)) config.credentials = { ...EMULATOR_CREDENTIALS };
  return config;
}

function hasConfiguredCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    env.AWS_ACCESS_KEY_ID ||
      env.AWS_PROFILE ||
      env.AWS_WEB_IDENTITY_TOKEN_FILE ||
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
      env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
}

// In Lambda each call is an X-Ray subsegment named by service and operation.
function build<Client>(ClientClass: new (config: SharedClientConfig) => Client, options?: AwsClientOptions): Client {
  return lambdaTracer().captureAWSv3Client(new ClientClass(sharedClientConfig(options)));
}

export const kinesisClient = (options?: AwsClientOptions): KinesisClient => build(KinesisClient, options);
export const sqsClient = (options?: AwsClientOptions): SQSClient => build(SQSClient, options);
export const dynamoDbClient = (options?: AwsClientOptions): DynamoDBClient => build(DynamoDBClient, options);
export const s3Client = (options?: AwsClientOptions): S3Client => build(S3Client, options);
export const snsClient = (options?: AwsClientOptions): SNSClient => build(SNSClient, options);
export const secretsManagerClient = (options?: AwsClientOptions): SecretsManagerClient =>
  build(SecretsManagerClient, options);
export const sesClient = (options?: AwsClientOptions): SESClient => build(SESClient, options);
export const cloudWatchClient = (options?: AwsClientOptions): CloudWatchClient => build(CloudWatchClient, options);
export const schedulerClient = (options?: AwsClientOptions): SchedulerClient => build(SchedulerClient, options);
export const eventBridgeClient = (options?: AwsClientOptions): EventBridgeClient => build(EventBridgeClient, options);
