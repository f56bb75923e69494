import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { FunctionBinding, HouseFunction } from './house-function';
import type { Network } from './network';
import { customerManagedKey } from './keys';

export interface CacheProps {
  readonly network: Network;
}

// Nothing in the cache is the system of record (PostgreSQL is): losing it on teardown is fine.
const CACHE_REMOVAL = RemovalPolicy.DESTROY;

/** ElastiCache Serverless for Valkey: live counters, alert feeds, pub/sub and cooldown keys. */
export class Cache extends Construct implements FunctionBinding {
  readonly key: kms.Key;
  readonly securityGroup: ec2.SecurityGroup;
  readonly serverlessCache: elasticache.CfnServerlessCache;
  /** Serverless caches only speak TLS, hence `rediss://`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const { vpc, isolatedSubnets } = props.network;

    this.key = customerManagedKey(this, 'ElastiCache Serverless data at rest', CACHE_REMOVAL);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Valkey: reachable from the cache functions',
      allowAllOutbound: false,
    });

    this.serverlessCache = new elasticache.CfnServerlessCache(this, 'Cache', {
      engine: 'valkey',
      majorEngineVersion: '8',
      // Names are account-and-region unique and must be lower case, at most 40 characters.
      serverlessCacheName: Names.uniqueResourceName(this, { maxLength: 40, separator: '-' }).toLowerCase(),
      description: 'Real-time analytics state',
      kmsKeyId: this.key.keyArn,
      securityGroupIds: [this.securityGroup.securityGroupId],
      subnetIds: vpc.selectSubnets(isolatedSubnets).subnetIds,
      // Caps the bill if a bug writes unbounded keys: nothing here is the system of record.
      cacheUsageLimits: {
        dataStorage: { maximum: 10, unit: 'GB' },
        ecpuPerSecond: { maximum: 15000 },
      },
      snapshotRetentionLimit: 1,
    });
    this.serverlessCache.applyRemovalPolicy(CACHE_REMOVAL);

    this.url = `rediss://${this.serverlessCache.attrEndpointAddress}:${this.serverlessCache.attrEndpointPort}`;
  }

  /** REDIS_URL plus a path through the security groups (6379 primary, 6380 reader endpoint). */
  bindTo(fn: HouseFunction): void {
    fn.addEnvironment('REDIS_URL', this.url);
    for (const sg of fn.connections.securityGroups) {
      this.securityGroup.addIngressRule(sg, ec2.Port.tcpRange(6379, 6380), 'Lambda to Valkey');
      sg.addEgressRule(this.securityGroup, ec2.Port.tcpRange(6379, 6380), 'Lambda to Valkey');
    }
  }
}
