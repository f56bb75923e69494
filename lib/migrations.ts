import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type CfnElement, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import { type FunctionBinding, type FunctionPlacement, HouseFunction, PROJECT_ROOT } from './house-function';
import { logsKey } from './keys';
import { acknowledgeFinding } from './nag';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'functions', 'adapters', 'pg', 'migrations');

/**
 * SHA-256 over the names and contents of the migration files, in apply order. A changed hash
 * is a changed custom-resource property, which is what makes CloudFormation send an Update.
 */
export function migrationsHash(dir: string = MIGRATIONS_DIR): string {
  const hash = createHash('sha256');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sql')).sort() : [];
  for (const file of files) {
    hash.update(file).update('\0').update(readFileSync(path.join(dir, file))).update('\0');
  }
  return hash.digest('hex');
}

export interface MigrationsProps {
  readonly database: FunctionBinding;
  /** The migration must wait for these (the cluster's writer), not just for the proxy name. */
  readonly dependsOn?: readonly IDependable[];
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
}

/** Applies the SQL migrations during deployment, so code never runs against an older schema. */
export class Migrations extends Construct {
  readonly migrateFunction: HouseFunction;
  readonly resource: CustomResource;
  readonly hash: string;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    this.hash = migrationsHash();

    this.migrateFunction = new HouseFunction(this, 'MigrateFunction', {
      handler: 'migrate',
      description: 'CloudFormation custom resource: applies functions/adapters/pg/migrations',
      logRetention: props.logRetention,
      timeout: Duration.minutes(10),
      // The migrator reads the SQL files from `migrations/` beside the bundle.
      bundledFolders: [path.relative(PROJECT_ROOT, MIGRATIONS_DIR)],
      ...props.placement,
    })
      .bind(props.database)
      .acknowledge(
        'HIPAA.Security-LambdaDLQ',
        'Invoked synchronously by the custom-resource provider during a deployment: a failure fails (and rolls back) the deployment, which is where someone is watching; a DLQ only receives asynchronous invocations.',
      );

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.migrateFunction,
      // The framework function logs every deployment event; give it a retention like ours.
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention, encryptionKey: logsKey(this) }),
    });
    this.acknowledgeProviderFindings(provider);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::DatabaseMigrations',
      properties: { MigrationsHash: this.hash },
    });
    for (const dependency of props.dependsOn ?? []) this.resource.node.addDependency(dependency);
  }

  /** The provider's framework function is CDK's, not ours: what it is built with is not ours to change. */
  private acknowledgeProviderFindings(provider: cr.Provider): void {
    const onEvent = provider.node.findChild('framework-onEvent');
    const fn = onEvent.node.defaultChild!;
    const role = onEvent.node.findChild('ServiceRole');
    const migrateArn = Stack.of(this).getLogicalId(this.migrateFunction.node.defaultChild as CfnElement);
    acknowledgeFinding(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Role of the CDK provider framework function, which runs only during deployments and logs nothing but request envelopes (no data); cr.Provider offers no way to drop the managed policy short of replacing its role.',
    );
    acknowledgeFinding(
      role,
      `AwsSolutions-IAM5[Resource::<${migrateArn}.Arn>:*]`,
      'The provider invokes the migrate function by ARN, possibly qualified by version or alias: the wildcard is the qualifiers of that one function.',
    );
    acknowledgeFinding(
      role,
      'HIPAA.Security-IAMNoInlinePolicy',
      "CDK's grant policy for the provider framework role, attached to that role only (lambda:InvokeFunction and GetFunction on the migrate function).",
    );
    acknowledgeFinding(
      fn,
      'HIPAA.Security-LambdaDLQ',
      'Invoked by CloudFormation for a custom resource: a failure fails the deployment and is reported in the stack events; nothing could replay a queued CloudFormation request later.',
    );
    acknowledgeFinding(
      fn,
      'HIPAA.Security-LambdaConcurrency',
      'Runs once per deployment of the Migrations resource; CloudFormation sends one request at a time for it, and cr.Provider exposes no reserved-concurrency setting.',
    );
    acknowledgeFinding(
      fn,
      'HIPAA.Security-LambdaInsideVPC',
      'Holds no data: it invokes the migrate function (which is in the VPC) and answers CloudFormation through a pre-signed S3 URL. In the isolated subnets it would need a Lambda interface endpoint kept only for deployments.',
    );
  }
}
