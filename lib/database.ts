import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { FunctionBinding, HouseFunction } from './house-function';
import type { Network } from './network';
import { customerManagedKey } from './keys';

export const DATABASE_NAME = 'analytics';

export interface DatabaseProps {
  readonly network: Network;
  readonly deletionProtection: boolean;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Aurora PostgreSQL Serverless v2 behind RDS Proxy. Lambdas connect through the proxy so a
 * burst of concurrent invocations shares a bounded pool instead of exhausting connections.
 */
export class Database extends Construct implements FunctionBinding {
  readonly key: kms.Key;
  readonly cluster: rds.DatabaseCluster;
  readonly proxy: rds.DatabaseProxy;
  readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { vpc, isolatedSubnets } = props.network;
    const removalPolicy = props.deletionProtection ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY;

    this.key = customerManagedKey(this, 'Aurora storage and credentials', props.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);

    const clusterSecurityGroup = new ec2.SecurityGroup(this, 'ClusterSecurityGroup', {
      vpc,
      description: 'Aurora: reachable from the RDS Proxy only',
      allowAllOutbound: false,
    });
    const proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc,
      description: 'RDS Proxy: reachable from the database functions',
      allowAllOutbound: false,
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
      writer: rds.ClusterInstance.serverlessV2('Writer'),
      // Enough to absorb a backlog replay; the floor keeps an idle environment cheap.
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 8,
      vpc,
      vpcSubnets: isolatedSubnets,
      securityGroups: [clusterSecurityGroup],
      storageEncrypted: true,
      storageEncryptionKey: this.key,
      credentials: rds.Credentials.fromGeneratedSecret('analytics_admin', { encryptionKey: this.key }),
      defaultDatabaseName: DATABASE_NAME,
      deletionProtection: props.deletionProtection,
      removalPolicy,
      backup: { retention: Duration.days(14) },
      cloudwatchLogsExports: ['postgresql'],
      cloudwatchLogsRetention: props.logRetention,
      parameters: { 'rds.force_ssl': '1' },
    });
    if (this.cluster.secret === undefined) throw new Error('Aurora cluster was created without a secret');
    this.secret = this.cluster.secret;

    this.proxy = this.cluster.addProxy('Proxy', {
      secrets: [this.secret],
      vpc,
      vpcSubnets: isolatedSubnets,
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      // Lambdas hold a connection for milliseconds; free idle ones fast so the pool stays small.
      idleClientTimeout: Duration.minutes(5),
    });
    this.cluster.connections.allowDefaultPortFrom(proxySecurityGroup, 'RDS Proxy to Aurora');
    proxySecurityGroup.addEgressRule(clusterSecurityGroup, ec2.Port.tcp(5432), 'RDS Proxy to Aurora');
  }

  /** DATABASE_SECRET_ARN, DATABASE_HOST (the proxy), DATABASE_NAME, secret read and a network path. */
  bindTo(fn: HouseFunction): void {
    fn.bindSecret(this.secret, 'DATABASE_SECRET_ARN');
    fn.addEnvironment('DATABASE_HOST', this.proxy.endpoint);
    fn.addEnvironment('DATABASE_NAME', DATABASE_NAME);
    this.proxy.connections.allowFrom(fn, ec2.Port.tcp(5432), 'Lambda to RDS Proxy');
  }
}
