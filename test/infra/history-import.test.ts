import { Match } from 'aws-cdk-lib/assertions';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

describe.each([
  ['aws', {}],
  ['localstack', { target: 'localstack' }],
])('the history import on the %s target', (target, context) => {
  const { template } = synthStack(context);
  const importFunction = lambdaNamed(template, HOUSE_FUNCTIONS.import);
  const bucket = logicalIdOf(template, 'AWS::S3::Bucket', 'HistoryImportImportBucket');

  it('keeps import files in a private, versioned bucket under the storage key, for 30 days, telling EventBridge of new objects', () => {
    const properties = template.toJSON().Resources[bucket].Properties;

    expect(properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^StorageKey/), 'Arn'] } }, BucketKeyEnabled: true }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/^StorageAccessLogBucket/) }, LogFilePrefix: 'import-bucket/' },
    });
    expect(properties.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ ExpirationInDays: 30, Status: 'Enabled' })]);
  });

  it('starts the import function for JSON Lines files under imports/ only (not the results it writes there), with retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [{ Ref: bucket }] }, object: { key: [{ wildcard: 'imports/*.jsonl' }, { wildcard: 'imports/*.jsonl.gz' }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [importFunction.id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } })],
    });
  });

  it('needs no notification custom resource (a function outside the house rules)', () => {
    expect(Object.keys(template.findResources('Custom::S3BucketNotifications'))).toEqual([]);
  });

  it('gives the function what ingest admits events with, and the database; in AWS inside the VPC', () => {
    const { Environment, VpcConfig, Timeout } = importFunction.resource.Properties;

    expect(Object.keys(Environment.Variables)).toEqual(expect.arrayContaining(['CONSENT_TABLE_NAME', 'PEPPER_SECRET_ARN', 'IMPORT_BUCKET']));
    expect(Timeout).toBe(900);
    expect(VpcConfig !== undefined).toBe(target === 'aws');
  });
});
