import { synthStack } from './synth';

/**
 * What an ordinary redeploy must not replace: the stateful resources, by logical id (a new id is
 * a delete and a create) and by the properties CloudFormation can only set at creation (changing
 * one replaces the resource: a new stream, table, key or database, with the data left behind).
 * The snapshot is reviewed like code: a diff in it is a replacement `cdk diff` would show.
 */
const CREATE_ONLY: Readonly<Record<string, readonly string[]>> = {
  'AWS::DynamoDB::Table': ['TableName', 'KeySchema'],
  'AWS::Kinesis::Stream': ['Name'],
  'AWS::Kinesis::StreamConsumer': ['ConsumerName', 'StreamARN'],
  'AWS::S3::Bucket': ['BucketName', 'ObjectLockEnabled'],
  'AWS::KMS::Key': ['KeySpec', 'KeyUsage', 'MultiRegion'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::SQS::Queue': ['QueueName', 'FifoQueue'],
  'AWS::SNS::Topic': ['TopicName', 'FifoTopic'],
  'AWS::RDS::DBCluster': ['DBClusterIdentifier', 'DatabaseName', 'Engine', 'MasterUsername', 'StorageEncrypted', 'KmsKeyId', 'DBSubnetGroupName'],
  'AWS::RDS::DBInstance': ['DBInstanceIdentifier', 'DBClusterIdentifier', 'Engine'],
  'AWS::RDS::DBProxy': ['DBProxyName', 'EngineFamily'],
  'AWS::ElastiCache::ServerlessCache': ['ServerlessCacheName', 'Engine', 'KmsKeyId', 'SubnetIds'],
  'AWS::Cognito::UserPool': ['UsernameAttributes', 'AliasAttributes'],
  'AWS::EC2::VPC': ['CidrBlock'],
  'AWS::EC2::Subnet': ['CidrBlock', 'AvailabilityZone'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
};

function stateful(context: Record<string, unknown>): Record<string, unknown> {
  const resources = synthStack(context).template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([, resource]) => resource.Type in CREATE_ONLY)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, resource]) => [id, { Type: resource.Type, ...Object.fromEntries(CREATE_ONLY[resource.Type]!.filter((p) => resource.Properties?.[p] !== undefined).map((p) => [p, resource.Properties![p]])) }]),
  );
}

describe.each([['aws', {}], ['localstack', { target: 'localstack' }]])('the %s template', (_, context) => {
  const first = stateful(context);

  it('synthesises the same stateful resources every time', () => {
    expect(stateful(context)).toEqual(first);
  });

  it('keeps the stateful resources and their create-only properties (a snapshot diff is a replacement)', () => {
    expect(Object.keys(first).length).toBeGreaterThan(5);
    expect(first).toMatchSnapshot();
  });
});
