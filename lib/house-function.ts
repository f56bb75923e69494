import * as path from 'node:path';
import { Annotations, type CfnElement, Duration, type IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IConstruct } from 'constructs';
import { logsKey } from './keys';
import { acknowledgeFinding } from './nag';

export const PROJECT_ROOT = path.join(__dirname, '..');

/** The handler names that have an entry in functions/handlers/. */
export type HandlerName = 'ingest' | 'aggregate' | 'roll-up' | 'purge' | 'query' | 'privacy' | 'migrate' | 'detect' | 'monitor' | 'alerts' | 'import' | 'model' | 'report' | 'live' | 'jwks';

/** Something a function can be connected to with one call: sets its variables and grants access. */
export interface FunctionBinding {
  bindTo(fn: HouseFunction): void;
}

export interface HouseFunctionProps {
  /** Picks `functions/handlers/<handler>.ts`, export `handler`. */
  readonly handler: HandlerName;
  readonly description?: string;
  readonly logRetention: logs.RetentionDays;
  readonly memorySize?: number;
  /** Node.js flags beside `--enable-source-maps` (NODE_OPTIONS). */
  readonly nodeOptions?: readonly string[];
  readonly timeout?: Duration;
  readonly environment?: Readonly<Record<string, string>>;
  /** Given only to functions that reach VPC-only stores; the function lands in isolated subnets. */
  readonly vpc?: ec2.IVpc;
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Why a function without `vpc` runs outside the VPC; recorded as the acknowledgement of the
   * HIPAA rule that wants every Lambda in a VPC. Without it that rule reports the function.
   */
  readonly outsideVpcReason?: string;
  readonly reservedConcurrentExecutions?: number;
  /** Folders (relative to the project root) copied beside the bundle, under their last path segment. */
  readonly bundledFolders?: readonly string[];
  /** Files written beside the bundle: name, then content. */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

/** Placement of a function: in the VPC with its security groups, or outside with the reason why. */
export type FunctionPlacement = Pick<HouseFunctionProps, 'vpc' | 'securityGroups' | 'outsideVpcReason'>;

// What Lambda needs to manage the function's ENIs in the VPC (AWSLambdaVPCAccessExecutionRole
// without its logs:* on every log group). EC2 takes no resource ARNs for the Describe calls, and
// the ENIs do not exist before Lambda creates them.
const VPC_ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

const HOUSE_FUNCTION = Symbol.for('therapeutic-analytics.HouseFunction');

// The hooks run in a shell: a file's content goes in single quotes, its own single quotes escaped.
const shellQuoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

// ESM output allows top-level await for cold-start initialisation and better tree-shaking, but CommonJS
// dependencies bundled into it (pg, ioredis) still call `require` for Node built-ins: give them one.
// Our own code finds files shipped beside the bundle (the SQL migrations) through `__dirname`.
export const ESM_REQUIRE_BANNER = [
  "import { createRequire as __houseCreateRequire } from 'node:module';",
  "import { fileURLToPath as __houseFileURLToPath } from 'node:url';",
  "import { dirname as __houseDirname } from 'node:path';",
  'const require = __houseCreateRequire(import.meta.url);',
  'const __filename = __houseFileURLToPath(import.meta.url);',
  'const __dirname = __houseDirname(__filename);',
].join(' ');

/**
 * The only way this project builds a Lambda: runtime, architecture, tracing, logging and
 * bundling are decided here once so no function can drift from them.
 */
export class HouseFunction extends NodejsFunction {
  static isHouseFunction(x: unknown): x is HouseFunction {
    return typeof x === 'object' && x !== null && HOUSE_FUNCTION in x;
  }

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    // An explicit group (not the implicit /aws/lambda one) is the only way to own its retention;
    // it is a sibling in scope because nothing can be created on `this` before super().
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      // Logs of a therapeutic product are evidence for audits: keep them when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: logsKey(scope),
    });
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, 'functions', 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      // Graviton: cheaper per ms and our code has no native x86 dependencies.
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : undefined,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        // Stack traces in the logs point at the TypeScript source, not the minified bundle.
        NODE_OPTIONS: ['--enable-source-maps', ...(props.nodeOptions ?? [])].join(' '),
        // Powertools Logger writes debug lines for this share of invocations whatever the level.
        POWERTOOLS_LOGGER_SAMPLE_RATE: '0.01',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        // `cdk synth -q` prints nothing on success; esbuild still reports what fails.
        logLevel: LogLevel.ERROR,
        // Bundle the SDK: pins the version we test against instead of whatever the runtime ships.
        bundleAwsSDK: true,
        externalModules: [],
        // pg tries to load its optional native binding; nothing ships it, so keep esbuild quiet.
        esbuildArgs: { '--external:pg-native': true },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            ...(props.bundledFolders ?? []).map((folder) => `cp -R "${path.join(inputDir, folder)}" "${path.join(outputDir, path.basename(folder))}"`),
            ...Object.entries(props.bundledFiles ?? {}).map(([name, content]) => `printf '%s' ${shellQuoted(content)} > "${path.join(outputDir, name)}"`),
          ],
        },
      },
    });
    Object.defineProperty(this, HOUSE_FUNCTION, { value: true });
    this.scopeExecutionRole(logGroup, props);
    this.acknowledgeHouseFindings(props);
  }

  /**
   * Replaces the AWS managed execution policies, which allow logs:CreateLogGroup/PutLogEvents on
   * every log group of the account, with writes to this function's own group (and, in the VPC,
   * the ENI actions alone).
   */
  private scopeExecutionRole(logGroup: logs.ILogGroup, props: HouseFunctionProps): void {
    const role = this.role?.node.defaultChild;
    if (!(role instanceof iam.CfnRole)) throw new Error(`${this.node.path}: expected the function's own execution role`);
    // The L2 role keeps its list of managed policies private; the L1 property is what is deployed.
    role.managedPolicyArns = undefined;
    logGroup.grantWrite(this);
    if (props.vpc) this.addToRolePolicy(new iam.PolicyStatement({ actions: VPC_ENI_ACTIONS, resources: ['*'] }));
  }

  /** Findings every house function has by construction, acknowledged once here. */
  private acknowledgeHouseFindings(props: HouseFunctionProps): void {
    const role = this.role!;
    acknowledgeFinding(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      props.vpc
        ? 'Only actions without resource-level permissions are on *: X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and the Lambda ENI actions (EC2 Describe* and ENIs Lambda creates at deploy). Every other grant names its resource ARN; test/infra/function-permissions.test.ts pins the action list.'
        : 'Only X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) are on *: X-Ray has no resource-level permissions. Every other grant names its resource ARN; test/infra/function-permissions.test.ts pins the action list.',
    );
    acknowledgeFinding(
      role,
      'HIPAA.Security-IAMNoInlinePolicy',
      "The policy is CDK's per-role grant policy, attached to this one execution role only; a customer-managed policy could be attached to other principals, which per-function least privilege is meant to prevent.",
    );
    acknowledgeFinding(
      this.node.defaultChild!,
      'AwsSolutions-L1',
      'nodejs22.x is the house runtime (an LTS Lambda supports into 2027), fixed once in HouseFunction with the matching esbuild target and tested; moving to nodejs24.x is a deliberate upgrade of runtime and bundling together, not a per-function setting.',
    );
    if (props.vpc === undefined && props.outsideVpcReason !== undefined) {
      acknowledgeFinding(this.node.defaultChild!, 'HIPAA.Security-LambdaInsideVPC', props.outsideVpcReason);
    }
  }

  /** Acknowledges a cdk-nag finding on the function resource itself (see lib/nag.ts). */
  acknowledge(id: string, reason: string): this {
    acknowledgeFinding(this.node.defaultChild!, id, reason);
    return this;
  }

  /** Connects anything that knows how to bind itself (database, cache, ...). */
  bind(binding: FunctionBinding): this {
    binding.bindTo(this);
    return this;
  }

  /**
   * STREAM_NAME plus the grant the function needs for its side of the stream. Writers get what
   * the stream adapter calls (PutRecords) and, on an encrypted stream, kms:GenerateDataKey, which
   * is all a Kinesis producer uses the key for: not grantWrite's ListShards, Encrypt, ReEncrypt*.
   */
  bindStream(stream: kinesis.IStream, access: 'write' | 'read' = 'write', envName = 'STREAM_NAME'): this {
    this.addEnvironment(envName, stream.streamName);
    if (access === 'write') {
      stream.grant(this, 'kinesis:PutRecords');
      stream.encryptionKey?.grant(this, 'kms:GenerateDataKey');
    } else {
      stream.grantRead(this);
    }
    return this;
  }

  /**
   * The table's name plus the item actions the function calls: `lookup` batch reads by key,
   * `create` also puts items, `erase` also deletes them, `keep` does both. Not grantReadData's Scan
   * and Query, which would let a consent check list the registry, nor grantWriteData's wildcard KMS
   * actions.
   */
  bindTable(table: dynamodb.ITable, envName: string, access: 'lookup' | 'create' | 'erase' | 'keep'): this {
    this.addEnvironment(envName, table.tableName);
    const writes = access === 'create' || access === 'keep';
    table.grant(this, 'dynamodb:BatchGetItem', ...(writes ? ['dynamodb:PutItem'] : []), ...(access === 'erase' || access === 'keep' ? ['dynamodb:DeleteItem'] : []));
    table.encryptionKey?.grant(this, 'kms:Decrypt', 'kms:DescribeKey', ...(writes ? ['kms:Encrypt', 'kms:GenerateDataKey'] : []));
    return this;
  }

  /**
   * The bucket's name plus put and get of the objects under `prefix`, and the key's data-key
   * actions an SSE-KMS object needs: not grantReadWrite's list, delete and wildcard actions.
   */
  bindBucket(bucket: s3.IBucket, envName: string, prefix: string, access: 'read' | 'readWrite' = 'readWrite'): this {
    this.addEnvironment(envName, bucket.bucketName);
    const writes = access === 'readWrite';
    this.addToRolePolicy(new iam.PolicyStatement({ actions: [...(writes ? ['s3:PutObject'] : []), 's3:GetObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }));
    bucket.encryptionKey?.grant(this, ...(writes ? ['kms:GenerateDataKey'] : []), 'kms:Decrypt');
    const bucketId = Stack.of(this).resolve((bucket.node.defaultChild as CfnElement).logicalId) as string;
    acknowledgeFinding(
      this.role!,
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
      `Object keys are made per file under ${prefix} (a report, a model, an upload), so the grant names the prefix, not each object: ${writes ? 'put and get' : 'get'} only, no list or delete.`,
    );
    return this;
  }

  /** Passes the ARN, never the value: the function fetches it at cold start so it stays out of the console. */
  bindSecret(secret: secretsmanager.ISecret, envName: string): this {
    this.addEnvironment(envName, secret.secretArn);
    secret.grantRead(this);
    return this;
  }
}

/**
 * Fails synthesis when a NodejsFunction bypasses HouseFunction, since such a function would
 * silently miss tracing, JSON logs, retention or the ESM bundle.
 */
export class HouseFunctionsOnly implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof NodejsFunction && !HouseFunction.isHouseFunction(node)) {
      Annotations.of(node).addError(
        `${node.node.path} is a plain NodejsFunction: build Lambdas with HouseFunction (lib/house-function.ts) so runtime, tracing, logging and bundling stay uniform.`,
      );
    }
  }
}

/**
 * A function behind the HTTP API. It finishes (or fails) before API Gateway gives up at 30 s, and
 * it is invoked synchronously, so a DLQ would never receive anything and its concurrency is
 * bounded by the stage's throttle.
 */
export class ApiFunction extends HouseFunction {
  constructor(scope: Construct, id: string, props: Omit<HouseFunctionProps, 'timeout'>) {
    super(scope, id, { ...props, timeout: Duration.seconds(29) });
    this.acknowledge(
      'HIPAA.Security-LambdaDLQ',
      'Invoked synchronously (API Gateway, or the function URL on LocalStack): a failure is an error response to the caller, who retries; a DLQ only receives asynchronous invocations.',
    ).acknowledge(
      'HIPAA.Security-LambdaConcurrency',
      "Concurrency is bounded in front of the function by the API stage's throttle (rate and burst from settings); reserving concurrency would also take it from the account pool and fail deployment in accounts with a low limit.",
    );
  }
}
