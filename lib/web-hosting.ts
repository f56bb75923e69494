import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Aws, type CfnElement, CfnOutput, DefaultStackSynthesizer, Duration, Fn, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { Api } from './api';
import { logsKey } from './keys';
import { acknowledgeFinding } from './nag';

export interface WebHostingProps {
  /** The built web app (Vite's `web/dist`): index.html, and content-hashed files under assets/. */
  readonly buildFolder: string;
  /** The API the app calls, served from the same origin under /v1/* and /openapi.json. */
  readonly api: Api;
  /**
   * GET /v1/live's function URL (lib/live-stream.ts), which streams where the API buffers: served
   * under its own path, before the API's /v1/*.
   */
  readonly liveStream: lambda.IFunctionUrl;
  /** Where the bucket's S3 server access logs go, beside the other buckets' (lib/storage.ts). */
  readonly accessLogBucket: s3.IBucket;
  /** A name of the operator's own, with its ACM certificate (us-east-1); the cloudfront.net name otherwise. */
  readonly customDomain?: { readonly name: string; readonly certificateArn: string };
  /** The Cognito hosted sign-in's prefix (`<prefix>.auth.<region>.amazoncognito.com`); one of the stack's own otherwise. */
  readonly signInDomainPrefix?: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** What the web app reads from /config.json at start: where the API is and how people sign in. */
export interface WebAppConfig {
  /** Prefix of the API's paths: empty, as the API is served from the app's own origin. */
  readonly apiBase: string;
  readonly auth: CognitoSignIn | { readonly kind: 'token' };
}

/**
 * Sign-in through the user pool's hosted pages: the authorization-code flow with PKCE of a
 * public client (no secret), then `POST {domain}/oauth2/token`. The API takes the access token
 * (its `client_id` is in the authorizer's audience) or the id token.
 */
export interface CognitoSignIn {
  readonly kind: 'cognito';
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** The hosted pages' base URL: `/oauth2/authorize`, `/oauth2/token` and `/logout` are under it. */
  readonly domain: string;
  /** Where the hosted pages send people back after sign-in and sign-out: the app's root. */
  readonly redirectUri: string;
  readonly scopes: readonly string[];
}

/**
 * The viewer-request function of the app's files. The app routes in the browser (`/alerts/{id}`,
 * `/dashboards/...`), so a path whose last segment has no file extension is a route and gets
 * index.html; a file path is left alone, so a missing asset is still an error, not a 200 with
 * HTML in place of a script. CloudFront's custom error responses would do the former for every
 * behaviour of the distribution, the API's included: a 404 or 403 from /v1/... would come back
 * as the app's page with a 200.
 */
const APP_ROUTES_TO_INDEX = `function handler(event) {
  var request = event.request;
  if (!/\\.[^/]*$/.test(request.uri)) request.uri = '/index.html';
  return request;
}`;

// Long enough for HSTS preload lists, which ask for at least a year.
const HSTS_MAX_AGE = Duration.days(730);
// Files under assets/ carry a hash of their content in their name: a changed file is a new name.
const HASHED_FILES = 'assets/*';

/**
 * The web app in AWS: its files in a private bucket behind CloudFront (origin access control,
 * security headers), the API behind the same distribution so the app calls it on its own origin
 * (no CORS), a Cognito client and hosted sign-in for the app when the stack has the user pool,
 * and the built app with its config.json deployed on every `cdk deploy`.
 */
export class WebHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://` and the name people open: the custom domain's, or the distribution's. */
  readonly url: string;
  readonly config: WebAppConfig;

  constructor(scope: Construct, id: string, props: WebHostingProps) {
    super(scope, id);
    // Deploying an empty site would replace a working app with nothing; stop before that.
    if (!existsSync(path.join(props.buildFolder, 'index.html'))) {
      throw new Error(`The web app is not built: ${path.join(props.buildFolder, 'index.html')} is missing. Run \`npm run build:web\` before \`cdk synth\` or \`cdk deploy\`.`);
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      // The files are the app every visitor downloads: nothing in them is secret, so S3's own keys.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // A deploy overwrites and prunes; the previous release stays a month for a manual rollback.
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: 'web-bucket/',
      removalPolicy: props.removalPolicy,
      lifecycleRules: [{ id: 'previous-releases', noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    const region = Stack.of(this).region;
    // Without the stack's user pool (an external issuer) people sign in with a token they bring.
    const signInPrefix = props.api.userPool && (props.signInDomainPrefix ?? stackDomainPrefix());
    const securityHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Security headers of the web app and the API',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: HSTS_MAX_AGE, includeSubdomains: true, preload: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(signInPrefix && hostedSignInUrl(signInPrefix, region), region), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        // Paths name alerts and dashboards: no other site learns them from a link followed.
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Permissions-Policy', value: 'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()', override: true }],
      },
    });

    const appRoutes = new cloudfront.Function(this, 'AppRoutes', {
      comment: 'Answers the app\'s own routes (paths without a file extension) with index.html',
      code: cloudfront.FunctionCode.fromInline(APP_ROUTES_TO_INDEX),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });
    const apiBehaviour: cloudfront.BehaviorOptions = {
      origin: new origins.HttpOrigin(Fn.parseDomainName(props.api.httpApi.apiEndpoint), {
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      }),
      // A call over http is a client's mistake: refused, as a redirected POST would lose its body.
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      // Every answer is per token and per moment. With caching off, the all-viewer request policy
      // may forward Authorization; Host stays API Gateway's own, which routes by it.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: securityHeaders,
    };
    const ownDomain = props.customDomain && {
      domainNames: [props.customDomain.name],
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.customDomain.certificateArn),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      sslSupportMethod: cloudfront.SSLMethod.SNI,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Therapeutic analytics: web app and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        functionAssociations: [{ function: appRoutes, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      // CloudFront takes the first pattern that matches, in this order: /v1/live before /v1/*.
      additionalBehaviors: { '/v1/live': liveBehaviour(props.liveStream, securityHeaders), '/v1/*': apiBehaviour, '/openapi.json': apiBehaviour },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...ownDomain,
    });
    this.url = `https://${props.customDomain?.name ?? this.distribution.distributionDomainName}`;

    this.config = { apiBase: '', auth: props.api.userPool && signInPrefix ? this.cognitoSignIn(props.api, props.api.userPool, signInPrefix) : { kind: 'token' } };
    this.deploy(props);
    this.acknowledgeFindings(props.customDomain !== undefined);
    new CfnOutput(this, 'Url', { value: this.url, description: 'The web app (and the API under /v1)' });
  }

  /** A client of the user pool for the app, its hosted sign-in, and the API's trust in its tokens. */
  private cognitoSignIn(api: Api, userPool: cognito.UserPool, domainPrefix: string): CognitoSignIn {
    const redirectUri = `${this.url}/`;
    const scopes = [cognito.OAuthScope.OPENID, cognito.OAuthScope.PROFILE];
    const signInClient = new cognito.UserPoolClient(this, 'SignInClient', {
      userPool,
      // A browser keeps no secret: a public client, whose code exchange PKCE protects.
      generateSecret: false,
      oAuth: { flows: { authorizationCodeGrant: true }, scopes, callbackUrls: [redirectUri], logoutUrls: [redirectUri] },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      authFlows: { userSrp: true },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      // A working day: a browser left signed in on a shared computer is signed out overnight.
      refreshTokenValidity: Duration.hours(12),
      preventUserExistenceErrors: true,
    });
    new cognito.UserPoolDomain(this, 'SignInDomain', { userPool, cognitoDomain: { domainPrefix } });
    api.acceptTokensOf(signInClient);
    return {
      kind: 'cognito',
      region: Stack.of(this).region,
      userPoolId: userPool.userPoolId,
      clientId: signInClient.userPoolClientId,
      domain: hostedSignInUrl(domainPrefix, Stack.of(this).region),
      redirectUri,
      scopes: scopes.map((scope) => scope.scopeName),
    };
  }

  /**
   * Two deployments of the build, so each file gets the caching it can bear: the hashed files are
   * cached for a year and never pruned (a tab opened before a deploy still loads its chunks);
   * index.html and config.json are revalidated on every load and replaced, then the cache is
   * invalidated. The hashed files go first, so no index.html names a file not yet there.
   */
  private deploy(props: WebHostingProps): void {
    const build = s3deploy.Source.asset(props.buildFolder);
    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', { retention: props.logRetention, encryptionKey: logsKey(this), removalPolicy: props.removalPolicy });
    // A role of our own, as CDK's would hold the managed execution policy (writes to every log
    // group of the account): this one writes to its own group, and the deployments add their grants.
    const role = new iam.Role(this, 'DeploymentRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: 'Deploys the web app into its bucket' });
    logGroup.grantWrite(role);
    const hashed = new s3deploy.BucketDeployment(this, 'HashedFiles', {
      sources: [build],
      destinationBucket: this.bucket,
      exclude: ['*'],
      include: [HASHED_FILES],
      prune: false,
      cacheControl: [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(Duration.days(365)), s3deploy.CacheControl.immutable()],
      role,
      logGroup,
    });
    const entry = new s3deploy.BucketDeployment(this, 'EntryFiles', {
      // Later sources overwrite earlier ones: the stack's config.json wins over any in the build.
      sources: [build, s3deploy.Source.jsonData('config.json', this.config)],
      destinationBucket: this.bucket,
      exclude: [HASHED_FILES],
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      role,
      logGroup,
    });
    entry.node.addDependency(hashed);
    this.acknowledgeDeploymentFindings(role);
  }

  /** The deployments' function is CDK's (Python and the AWS CLI), shared by both; its code and grants are not ours to change. */
  private acknowledgeDeploymentFindings(role: iam.Role): void {
    const handler = Stack.of(this).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handler === undefined) throw new Error(`${this.node.path}: expected the BucketDeployment handler function`);
    const fn = handler.node.defaultChild!;
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
      acknowledgeFinding(
        role,
        `AwsSolutions-IAM5[Action::${action}]`,
        "CDK's read grant on the bootstrap bucket's assets and read-write grant on the web app's bucket, which `aws s3 sync` needs to compare, upload and prune; on those two buckets only.",
      );
    }
    acknowledgeFinding(role, `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, 'The deployment syncs the whole site: every object of the web app\'s bucket, and of no other bucket.');
    acknowledgeFinding(
      role,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${assetBucketName(Stack.of(this))}/*]`,
      "Reads the build's zip from the CDK bootstrap bucket; the key is a content hash known only when the asset is published, so CDK grants the bucket's objects.",
    );
    acknowledgeFinding(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'cloudfront:CreateInvalidation and GetInvalidation, which CDK grants on * (it adds the statement itself); they clear cached copies and read no data.',
    );
    acknowledgeFinding(role, 'HIPAA.Security-IAMNoInlinePolicy', "CDK's grant policy for the deployments' role, attached to that role only.");
    acknowledgeFinding(fn, 'AwsSolutions-L1', "CDK's BucketDeployment handler (Python, with the AWS CLI layer): aws-cdk-lib chooses its runtime, and an upgrade of aws-cdk-lib moves it.");
    acknowledgeFinding(fn, 'HIPAA.Security-LambdaDLQ', 'Invoked by CloudFormation for a custom resource: a failure fails the deployment and is reported in the stack events; nothing could replay a queued CloudFormation request later.');
    acknowledgeFinding(fn, 'HIPAA.Security-LambdaConcurrency', 'Runs only during deployments, once per changed deployment resource (two at most), one request at a time from CloudFormation.');
    acknowledgeFinding(
      fn,
      'HIPAA.Security-LambdaInsideVPC',
      "Holds no data: it copies the public web app from the bootstrap bucket to the web app's bucket and invalidates CloudFront, which the isolated subnets cannot reach (no CloudFront endpoint).",
    );
  }

  private acknowledgeFindings(customDomain: boolean): void {
    const bucket = this.bucket.node.defaultChild!;
    acknowledgeFinding(
      bucket,
      'HIPAA.Security-S3DefaultEncryptionKMS',
      'Holds the built web app, which every visitor downloads: no health data and nothing secret (config.json names the user pool and its public client). SSE-S3 encrypts it at rest; a customer-managed key would protect nothing more and would have to trust every distribution of the account (CloudFront cannot be named in the key policy before it exists).',
    );
    acknowledgeFinding(
      bucket,
      'HIPAA.Security-S3BucketReplicationEnabled',
      'Holds nothing that is not in the repository: a `cdk deploy` rebuilds it from the build in minutes, in this region or another.',
    );
    const distribution = this.distribution.node.defaultChild!;
    acknowledgeFinding(
      distribution,
      'AwsSolutions-CFR3',
      "CloudFront's standard logs hold each viewer's IP address and user agent, both PII under the product's rules, and cannot leave them out. The API's calls are logged by the HTTP API's access log (no IP, no user agent); the bucket's reads by S3 server access logs; request counts and error rates are CloudFront's metrics.",
    );
    acknowledgeFinding(
      distribution,
      'AwsSolutions-CFR1',
      'The clinicians and analysts who use the app are where the operator is, which the product does not know; a geographic restriction is a decision for the operator (it does not protect data: every call but the public contract needs a token).',
    );
    acknowledgeFinding(
      distribution,
      'AwsSolutions-CFR2',
      "A CloudFront web ACL must be created in us-east-1, outside this stack's region. Every API route but the public contract needs a valid token, the HTTP API's stage throttles, and the static files are public by nature.",
    );
    if (!customDomain) {
      acknowledgeFinding(
        distribution,
        'AwsSolutions-CFR4',
        'The cloudfront.net name and certificate allow TLS 1.0 whatever the distribution asks for; only a certificate of the operator\'s own can raise it. Set webDomainName and webCertificateArn, and the distribution requires TLS 1.2 (TLSv1.2_2021).',
      );
    }
  }
}

/**
 * The live stream's function URL as an origin that only this distribution may call: its origin
 * access control signs every request with SigV4 in `Authorization`, overwriting the viewer's, so
 * the web app sends its bearer token in `x-bearer-token` as well (functions/handlers/live.ts).
 * Nothing is cached, every viewer header but Host is forwarded (the URL's own host is signed).
 */
function liveBehaviour(functionUrl: lambda.IFunctionUrl, securityHeaders: cloudfront.IResponseHeadersPolicy): cloudfront.BehaviorOptions {
  return {
    origin: origins.FunctionUrlOrigin.withOriginAccessControl(functionUrl),
    viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
    allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
    cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
    originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    responseHeadersPolicy: securityHeaders,
  };
}

/** The CDK bootstrap bucket of the stack's assets, as cdk-nag names it in a finding. */
function assetBucketName(stack: Stack): string {
  const named = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const qualifier = stack.synthesizer instanceof DefaultStackSynthesizer ? (stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER) : DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  return `cdk-${qualifier}-assets-${named(stack.account, 'AccountId')}-${named(stack.region, 'Region')}`;
}

// Cognito prefixes are global to a region and refuse "aws", "amazon" and "cognito"; the stack id's
// UUID is unique, stable for the stack's life, and names nothing (no account id).
const stackDomainPrefix = (): string => Fn.join('-', ['analytics', Fn.select(2, Fn.split('/', Aws.STACK_ID))]);

/**
 * Built from the prefix rather than read from the domain resource, so the headers policy (which
 * the distribution needs) does not wait for the sign-in resources (which need the distribution).
 */
const hostedSignInUrl = (prefix: string, region: string): string => `https://${prefix}.auth.${region}.amazoncognito.com`;

/**
 * Only the app's own files run and style the page; it talks to its own origin (the API) and, to
 * sign in, to the user pool's hosted pages (the code exchange) and Cognito's API.
 */
function contentSecurityPolicy(signInOrigin: string | undefined, region: string): string {
  const signIn = signInOrigin ? [signInOrigin, `https://cognito-idp.${region}.amazonaws.com`] : [];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...signIn].join(' '),
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    'upgrade-insecure-requests',
  ].join('; ');
}
