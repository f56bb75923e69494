import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { FunctionBinding, HouseFunction } from './house-function';
import type { Network } from './network';
import { customerManagedKey } from './keys';

/**
 * Aurora PostgreSQL versions RDS still creates clusters of (AWS's release calendar; cfn-lint's
 * W3690 data marks the older ones, 16.6 among them, as no longer creatable): the stack runs the
 * first, and an infra test fails when it leaves this list.
 */
export const CREATABLE_AURORA_POSTGRES_VERSIONS = [rds.AuroraPostgresEngineVersion.VER_17_9, rds.AuroraPostgresEngineVersion.VER_16_11] as const;
const AURORA_POSTGRES_VERSION = CREATABLE_AURORA_POSTGRES_VERSIONS[0];
import { acknowledgeFinding } from './nag';

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
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: AURORA_POSTGRES_VERSION }),
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
      // OS-level metrics (Enhanced Monitoring) for the audit trail of the host that holds the data.
      monitoringInterval: Duration.seconds(60),
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
    // Single-user rotation keeps the user and changes its password; the proxy reads the secret
    // again when a login fails, and the functions re-read it when the proxy refuses theirs
    // (functions/config/lambda.ts connectDatabase), so neither needs a restart.
    this.cluster.addRotationSingleUser({ automaticallyAfter: Duration.days(30), vpcSubnets: isolatedSubnets });
    // addProxy opens the proxy to the cluster in both directions on the cluster's port: one more
    // rule with the literal port is a duplicate, which EC2 refuses once the port resolves.
    this.acknowledgeFindings(clusterSecurityGroup);
  }

  private acknowledgeFindings(clusterSecurityGroup: ec2.SecurityGroup): void {
    acknowledgeFinding(
      this.cluster.node.defaultChild!,
      'AwsSolutions-RDS6',
      'No client authenticates to the cluster itself: functions reach it only through RDS Proxy (TLS required), and the proxy signs in with the Secrets Manager credentials. IAM authentication on the cluster would be an unused second way in.',
    );
    const writer = this.cluster.node.findChild('Writer').node.defaultChild!;
    acknowledgeFinding(
      writer,
      'HIPAA.Security-RDSInBackupPlan',
      'Aurora continuous backups are on (14 days, point-in-time restore, encrypted with the database key) and the cluster is snapshotted on removal; an AWS Backup plan would duplicate them.',
    );
    // allowDefaultPortFrom names the port by the cluster's endpoint attribute, which the rules cannot read.
    for (const [source, who] of [['ProxySecurityGroup', 'the RDS Proxy'], ['RotationSingleUserSecurityGroup', 'the secret rotation function']] as const) {
      const ingress = clusterSecurityGroup.node.children.find((c) => c.node.id.startsWith('from ') && c.node.id.includes(source));
      if (ingress === undefined) throw new Error(`${this.node.path}: the ingress rule from ${who} moved`);
      for (const id of ['HIPAA.Security-EC2RestrictedCommonPorts', 'HIPAA.Security-EC2RestrictedSSH']) {
        acknowledgeFinding(
          ingress,
          id,
          `Admits only the security group of ${who}, on the cluster's port (5432, an attribute until deployment, so the rule cannot read it); no SSH or other common port, and no CIDR source.`,
        );
      }
    }
    acknowledgeFinding(
      this.cluster.node.findChild('MonitoringRole'),
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      'Service role assumed only by monitoring.rds.amazonaws.com; the AWS managed policy is the one RDS documents for it and allows writing to the RDSOSMetrics log group only.',
    );
    acknowledgeFinding(
      this.proxy.node.findChild('IAMRole'),
      'HIPAA.Security-IAMNoInlinePolicy',
      "CDK's grant policy for the proxy's role, attached to that role only: read of the cluster secret and kms:Decrypt on the database key.",
    );
    // cloudwatchLogsRetention sets the postgresql log retention through CDK's stack-wide singleton.
    const logRetention = Stack.of(this).node.children.find((c) => c.node.id.startsWith('LogRetention'));
    if (logRetention === undefined) throw new Error(`${this.node.path}: expected the log-retention function of cloudwatchLogsRetention`);
    const logRetentionRole = logRetention.node.findChild('ServiceRole');
    acknowledgeFinding(
      logRetentionRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's log-retention function (sets the retention of the RDS postgresql log group): runs only at deployment, logs only its own calls, and CDK exposes no way to replace its managed policy.",
    );
    acknowledgeFinding(
      logRetentionRole,
      'AwsSolutions-IAM5[Resource::*]',
      "CDK's log-retention function must set retention on the log group RDS creates, whose name CDK does not pass to its role policy: PutRetentionPolicy/DeleteRetentionPolicy only.",
    );
    acknowledgeFinding(
      logRetentionRole,
      'HIPAA.Security-IAMNoInlinePolicy',
      "CDK's grant policy for the log-retention function's role, attached to that role only (PutRetentionPolicy/DeleteRetentionPolicy).",
    );
  }

  /** DATABASE_SECRET_ARN, DATABASE_HOST (the proxy), DATABASE_NAME, secret read and a network path. */
  bindTo(fn: HouseFunction): void {
    fn.bindSecret(this.secret, 'DATABASE_SECRET_ARN');
    fn.addEnvironment('DATABASE_HOST', this.proxy.endpoint);
    fn.addEnvironment('DATABASE_NAME', DATABASE_NAME);
    this.proxy.connections.allowFrom(fn, ec2.Port.tcp(5432), 'Lambda to RDS Proxy');
  }
}
