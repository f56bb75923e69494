import { CustomResource, Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';
import { acknowledgeFinding } from './nag';

/** Whose tokens the live stream accepts: the API's (lib/api.ts), so one sign-in serves both. */
export interface LiveStreamTokens {
  /** The issuer whose OpenID discovery document names the signing keys. */
  readonly issuer: string;
  /** The stack's user pool, when it issues the tokens (its clients are then checked as Cognito clients). */
  readonly userPoolId?: string;
  /** The accepted clients or audiences, comma-separated (resolved at synthesis). */
  readonly audience: string;
}

export interface LiveStreamProps {
  readonly cache: FunctionBinding;
  /** In the VPC beside the cache it subscribes to. */
  readonly placement: FunctionPlacement;
  readonly tokens: LiveStreamTokens;
  readonly kAnonymity: number;
  /** Encrypts the mirrored keys' secret (the storage key, as the stack's other secrets). */
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

// Above the handler's LIVE_STREAM_MS (10 minutes), which ends each stream before this cuts it.
const LIVE_TIMEOUT = Duration.minutes(15);
const MIRROR_EVERY = Duration.hours(1);

/**
 * GET /v1/live in AWS. The HTTP API buffers whole answers, so the live view's server-sent events
 * come from a function of their own, streamed through a function URL (RESPONSE_STREAM) that only
 * the web app's CloudFront distribution may invoke (AWS_IAM auth, signed by its origin access
 * control: lib/web-hosting.ts). The function subscribes to the cache's pub/sub from the isolated
 * subnets and checks bearer tokens itself, against the issuer's keys that a mirror function
 * outside the VPC copies into a secret hourly and at each deploy: nothing in those subnets reaches
 * an issuer, and a Cognito user pool with a sign-in domain refuses PrivateLink.
 */
export class LiveStream extends Construct {
  readonly liveFunction: HouseFunction;
  readonly functionUrl: lambda.FunctionUrl;
  readonly jwksFunction: HouseFunction;
  /** The issuer's public signing keys (a JWKS) and the accepted audience: public by nature, kept where the VPC can read them. */
  readonly jwksSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: LiveStreamProps) {
    super(scope, id);
    this.jwksSecret = new secretsmanager.Secret(this, 'Jwks', {
      description: "The token issuer's public signing keys (JWKS), mirrored for the live stream function",
      encryptionKey: props.encryptionKey,
      // An empty key set until the first mirror run, at this deploy: no token verifies before it.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ audience: [], jwks: { keys: [] } })),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const rule of ['AwsSolutions-SMG4', 'HIPAA.Security-SecretsManagerRotationEnabled']) {
      acknowledgeFinding(
        this.jwksSecret.node.defaultChild!,
        rule,
        "Holds no credential: the token issuer's public keys, replaced hourly and at each deploy by the mirror function from the issuer's own key set; rotating them is the issuer's business, and the mirror follows it.",
      );
    }

    this.jwksFunction = new HouseFunction(this, 'JwksFunction', {
      handler: 'jwks',
      description: "Mirrors the token issuer's public keys (JWKS) into a secret for the live stream function, hourly and at each deploy",
      logRetention: props.logRetention,
      memorySize: 256,
      timeout: Duration.minutes(1),
      // The audience goes to the live function through the mirror (MirroredTrust says why).
      environment: { JWT_ISSUER: props.tokens.issuer, JWT_AUDIENCE: props.tokens.audience, JWKS_SECRET_ARN: this.jwksSecret.secretArn },
      outsideVpcReason: "Reads the token issuer's public keys from the internet (its OpenID discovery document and key set), which the isolated subnets cannot reach; it reads and holds no data, and writes only the mirrored keys' secret.",
    })
      .acknowledge('HIPAA.Security-LambdaDLQ', 'A failed hourly run is retried by its rule and replaced by the next an hour later, while the keys already mirrored stay valid; at a deploy it answers CloudFormation itself, which fails the deploy.')
      .acknowledge('HIPAA.Security-LambdaConcurrency', 'Runs once an hour and once per deploy: its concurrency is bounded by its schedule.');
    this.jwksFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [this.jwksSecret.secretArn] }));
    props.encryptionKey.grant(this.jwksFunction, 'kms:GenerateDataKey', 'kms:Decrypt');

    new events.Rule(this, 'JwksSchedule', {
      description: "Mirrors the token issuer's public keys for the live stream hourly, so a rotated key arrives",
      schedule: events.Schedule.rate(MIRROR_EVERY),
      targets: [new targets.LambdaFunction(this.jwksFunction, { retryAttempts: 2, maxEventAge: Duration.minutes(30) })],
    });
    // Without a provider framework in front: the function answers CloudFormation's response URL itself.
    new CustomResource(this, 'JwksAtDeploy', {
      serviceToken: this.jwksFunction.functionArn,
      resourceType: 'Custom::JwksMirror',
      // A changed issuer or audience is an update, mirrored before their tokens arrive.
      properties: { Issuer: props.tokens.issuer, Audience: props.tokens.audience },
    });

    this.liveFunction = new HouseFunction(this, 'LiveFunction', {
      handler: 'live',
      description: 'GET /v1/live: server-sent events of the live counters and alerts from the cache pub/sub, streamed through a function URL behind CloudFront',
      logRetention: props.logRetention,
      memorySize: 256,
      timeout: LIVE_TIMEOUT,
      environment: {
        K_ANONYMITY: String(props.kAnonymity),
        ...(props.tokens.userPoolId !== undefined ? { USER_POOL_ID: props.tokens.userPoolId } : { JWT_ISSUER: props.tokens.issuer }),
      },
      ...props.placement,
    })
      .bind(props.cache)
      .bindSecret(this.jwksSecret, 'JWKS_SECRET_ARN')
      .acknowledge('HIPAA.Security-LambdaDLQ', 'Invoked synchronously through its function URL: a failure ends the response, and the web app reconnects; a DLQ only receives asynchronous invocations.')
      .acknowledge(
        'HIPAA.Security-LambdaConcurrency',
        'One execution per open live view, for at most 10 minutes each; only the web app\'s distribution may invoke it, and a request without a valid token of a reading role is answered at once. Reserving concurrency takes it from the account pool and fails deployment in accounts with a small quota.',
      );

    this.functionUrl = this.liveFunction.addFunctionUrl({
      // Only CloudFront, signing with its origin access control, may invoke it.
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });
  }
}
