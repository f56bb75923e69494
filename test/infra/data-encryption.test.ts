import { Capture, Match } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synthStack } from './synth';

const keyArn = (prefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'] });

describe('encryption at rest with customer-managed keys', () => {
  const { template } = synthStack();

  it('rotates every customer-managed key', () => {
    const keys = template.findResources('AWS::KMS::Key');
    expect(Object.keys(keys).length).toBeGreaterThanOrEqual(5);
    for (const key of Object.values(keys)) expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('encrypts the stream with its own key, on demand by default', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: keyArn('IngestionKey') },
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
    });
  });

  it('provisions shards when shardCount is given', () => {
    synthStack({ shardCount: 3 }).template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 3,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
  });

  it('keeps the report bucket private, versioned, KMS-encrypted and on a retention lifecycle', () => {
    const { template: t } = synthStack({ reportRetentionDays: 400 });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn('StorageKey') }, BucketKeyEnabled: true },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Status: 'Enabled',
            ExpirationInDays: 400,
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
          }),
        ]),
      },
    });
  });

  it('denies any request to the bucket that is not over TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(template, 'AWS::S3::Bucket', 'StorageReportBucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('builds the consent table on demand, KMS-encrypted, with PITR', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'subject', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn('StorageKey') },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('builds no table that no function uses: each is named in some function environment', () => {
    const environments = JSON.stringify(Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => fn.Properties.Environment));
    const tables = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    expect(tables.length).toBeGreaterThan(0);
    expect(tables.filter((id) => !environments.includes(JSON.stringify({ Ref: id })))).toEqual([]);
  });

  it('encrypts the four alert topics with the alerting key, and lets CloudWatch use it', () => {
    const alertingKey = logicalIdOf(template, 'AWS::KMS::Key', 'AlertingKey');
    const topics = template.findResources('AWS::SNS::Topic', { Properties: { KmsMasterKeyId: { 'Fn::GetAtt': [alertingKey, 'Arn'] } } });
    expect(Object.keys(topics).sort()).toEqual([
      expect.stringMatching(/^AlertingClinicianTopic/),
      expect.stringMatching(/^AlertingCriticalTopic/),
      expect.stringMatching(/^AlertingEscalationTopic/),
      expect.stringMatching(/^AlertingWarningTopic/),
    ]);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
  });

  it('encrypts the dead-letter queue with a customer-managed key', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: keyArn('ProcessingKey'),
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('runs Aurora PostgreSQL 17 Serverless v2, encrypted, with deletion protection on by default', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: Match.stringLikeRegexp('^17\\.'),
      StorageEncrypted: true,
      KmsKeyId: keyArn('DatabaseKey'),
      DeletionProtection: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8 },
      DatabaseName: 'analytics',
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: keyArn('DatabaseKey'),
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: Match.stringLikeRegexp('analytics_admin') }),
    });
  });

  it('turns deletion protection off from context', () => {
    synthStack({ deletionProtection: false }).template.hasResourceProperties('AWS::RDS::DBCluster', { DeletionProtection: false });
  });

  it('puts RDS Proxy in front of the cluster, requiring TLS', () => {
    template.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
  });

  it('encrypts the Valkey serverless cache and keeps it in the isolated subnets', () => {
    const subnets = new Capture();
    template.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      KmsKeyId: keyArn('CacheKey'),
      SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSecurityGroup'), 'GroupId'] }],
      SubnetIds: subnets,
    });
    expect(subnets.asArray()).toEqual([
      { Ref: expect.stringMatching(/^NetworkVpcisolatedSubnet1/) },
      { Ref: expect.stringMatching(/^NetworkVpcisolatedSubnet2/) },
    ]);
  });

  it('generates the pseudonymisation pepper and encrypts it with the storage key', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: keyArn('StorageKey'),
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
  });
});
