import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../functions/adapters/aws/clients';
import { motoQuery, rehearse, failures, type Moto, type Template } from '../../bin/deploy-rehearsal';
import { describeWithServices } from '../support/services';
import { startPrivateMoto, type PrivateMoto } from '../support/moto';

const ASSUME_LAMBDA = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };

/**
 * A template of each case the rehearsal tells apart, created on moto: what it creates, what its
 * CloudFormation skips, what it refuses, and what it refuses only over a skipped resource.
 */
function template(bucket: string): Template {
  return {
    Resources: {
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      // moto's CloudFormation has no AWS::SQS::QueuePolicy nor AWS::SecretsManager::Secret.
      QueuePolicy: { Type: 'AWS::SQS::QueuePolicy', Properties: { Queues: [{ Ref: 'Queue' }], PolicyDocument: { Version: '2012-10-17', Statement: [] } } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { SecretString: 'development value' } },
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: ASSUME_LAMBDA } },
      // Its Resource is the skipped secret: judged with a placeholder ARN standing in.
      ReadSecret: {
        Type: 'AWS::IAM::Policy',
        Properties: { PolicyName: 'read-secret', Roles: [{ Ref: 'Role' }], PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'Secret' } }] } },
      },
      // A statement without a resource: moto supports the type and refuses this one, as AWS would.
      NoResource: {
        Type: 'AWS::IAM::Policy',
        Properties: { PolicyName: 'no-resource', Roles: [{ Ref: 'Role' }], PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] } },
      },
      Function: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['NoResource', 'ReadSecret'],
        Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, Code: { S3Bucket: bucket, S3Key: 'uploaded.zip' } },
      },
      Permission: { Type: 'AWS::Lambda::Permission', Properties: { Action: 'lambda:InvokeFunction', FunctionName: { Ref: 'Function' }, Principal: 'events.amazonaws.com' } },
      // A mapping from a stream consumer moto's CloudFormation cannot make: refused over its placeholder.
      Stream: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 1 } },
      Consumer: { Type: 'AWS::Kinesis::StreamConsumer', Properties: { ConsumerName: 'detect', StreamARN: { 'Fn::GetAtt': ['Stream', 'Arn'] } } },
      Detect: {
        Type: 'AWS::Lambda::Function',
        Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, Code: { S3Bucket: bucket, S3Key: 'uploaded.zip' } },
      },
      Mapping: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { FunctionName: { Ref: 'Detect' }, EventSourceArn: { 'Fn::GetAtt': ['Consumer', 'ConsumerARN'] }, StartingPosition: 'LATEST' } },
    },
    Outputs: { ConsumerArn: { Value: { 'Fn::GetAtt': ['Consumer', 'ConsumerARN'] } } },
  };
}

// A moto of its own: the Lambda functions a stack creates make the shared moto's /moto-api/data.json
// fail (it asks Docker about them), which other suites read while this one runs.
describeWithServices(['moto'], 'the deploy rehearsal on moto', () => {
  let server: PrivateMoto;
  const moto = (account: string): Moto => ({ endpoint: server.endpoint, region: 'us-east-1', account });
  beforeAll(async () => {
    server = await startPrivateMoto();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('reports each resource: created, skipped by moto, refused, refused over a skipped one, and not attempted after a refusal', async () => {
    const xml = await motoQuery(server.endpoint, 'sts', 'GetCallerIdentity', {}, 'us-east-1');
    const account = /<Account>(\d+)<\/Account>/.exec(xml)![1]!;
    const bucket = `rehearsal-test-${randomBytes(4).toString('hex')}`;
    const s3 = s3Client({ endpoint: server.endpoint });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // moto keeps code it is never asked to run: any bytes stand in for the zip.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploaded.zip', Body: 'PK' }));

    const verdicts = await rehearse(moto(account), template(bucket));

    const byId = Object.fromEntries(verdicts.map((v) => [v.id, v.verdict]));
    expect(byId).toEqual({
      Queue: 'created',
      QueuePolicy: 'unsupported',
      Secret: 'unsupported',
      Role: 'created',
      ReadSecret: 'created',
      NoResource: 'refused',
      Function: 'not-attempted',
      Permission: 'not-attempted',
      Stream: 'created',
      Consumer: 'unsupported',
      Detect: 'created',
      Mapping: 'refused-unsupported-reference',
    });
    expect(failures(verdicts).map((v) => v.id)).toEqual(['NoResource']);
    expect(verdicts.find((v) => v.id === 'NoResource')).toMatchObject({ error: expect.stringContaining('MalformedPolicyDocument') });
    expect(verdicts.find((v) => v.id === 'Permission')).toMatchObject({ after: 'NoResource' });
    expect(verdicts.find((v) => v.id === 'Mapping')).toMatchObject({ references: ['Consumer'] });
  }, 60_000);
}, { commands: ['moto_server'] });
