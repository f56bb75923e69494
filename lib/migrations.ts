import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CustomResource, Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import { type FunctionBinding, HouseFunction, type HouseFunctionProps, PROJECT_ROOT } from './house-function';

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
  readonly placement?: Pick<HouseFunctionProps, 'vpc' | 'securityGroups'>;
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
      vpc: props.placement?.vpc,
      securityGroups: props.placement?.securityGroups,
    }).bind(props.database);

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.migrateFunction,
      // The framework function logs every deployment event; give it a retention like ours.
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention }),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::DatabaseMigrations',
      properties: { MigrationsHash: this.hash },
    });
    for (const dependency of props.dependsOn ?? []) this.resource.node.addDependency(dependency);
  }
}
