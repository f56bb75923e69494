import * as path from 'node:path';
import { Annotations, Duration, type IAspect, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IConstruct } from 'constructs';

export const PROJECT_ROOT = path.join(__dirname, '..');

/** The handler names that have an entry in functions/handlers/. */
export type HandlerName = 'ingest' | 'aggregate' | 'roll-up' | 'purge' | 'query' | 'privacy' | 'migrate';

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
  readonly timeout?: Duration;
  readonly environment?: Readonly<Record<string, string>>;
  /** Given only to functions that reach VPC-only stores; the function lands in isolated subnets. */
  readonly vpc?: ec2.IVpc;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly reservedConcurrentExecutions?: number;
  /** Folders (relative to the project root) copied beside the bundle, under their last path segment. */
  readonly bundledFolders?: readonly string[];
}

const HOUSE_FUNCTION = Symbol.for('therapeutic-analytics.HouseFunction');

// ESM output allows top-level await for cold-start initialisation and better tree-shaking, but CommonJS
// dependencies bundled into it (pg, ioredis) still call `require` for Node built-ins: give them one.
// Our own code finds files shipped beside the bundle (the SQL migrations) through `__dirname`.
const ESM_REQUIRE_BANNER = [
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
        NODE_OPTIONS: '--enable-source-maps',
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
        // Bundle the SDK: pins the version we test against instead of whatever the runtime ships.
        bundleAwsSDK: true,
        externalModules: [],
        // pg tries to load its optional native binding; nothing ships it, so keep esbuild quiet.
        esbuildArgs: { '--external:pg-native': true },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            (props.bundledFolders ?? []).map((folder) => `cp -R "${path.join(inputDir, folder)}" "${path.join(outputDir, path.basename(folder))}"`),
        },
      },
    });
    Object.defineProperty(this, HOUSE_FUNCTION, { value: true });
  }

  /** Connects anything that knows how to bind itself (database, cache, ...). */
  bind(binding: FunctionBinding): this {
    binding.bindTo(this);
    return this;
  }

  /** STREAM_NAME plus the grant the function needs for its side of the stream. */
  bindStream(stream: kinesis.IStream, access: 'write' | 'read' = 'write', envName = 'STREAM_NAME'): this {
    this.addEnvironment(envName, stream.streamName);
    if (access === 'write') stream.grantWrite(this);
    else stream.grantRead(this);
    return this;
  }

  bindTable(table: dynamodb.ITable, envName: string, access: 'read' | 'readWrite' = 'readWrite'): this {
    this.addEnvironment(envName, table.tableName);
    if (access === 'read') table.grantReadData(this);
    else table.grantReadWriteData(this);
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
