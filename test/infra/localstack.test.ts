import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

describe('target=localstack', () => {
  const { template } = synthStack({ target: 'localstack' });
  const env = (name: keyof typeof HOUSE_FUNCTIONS) => lambdaNamed(template, HOUSE_FUNCTIONS[name]).resource.Properties.Environment.Variables;

  it.each(['AWS::RDS::DBCluster', 'AWS::RDS::DBProxy', 'AWS::ApiGatewayV2::Api', 'AWS::ElastiCache::ServerlessCache', 'AWS::EC2::VPC', 'AWS::Cognito::UserPool'])(
    'builds no %s (absent from LocalStack community)',
    (type) => template.resourceCountIs(type, 0),
  );

  it("starts in the compose file every LocalStack service the template's resources need", () => {
    const compose = readFileSync(join(__dirname, '..', '..', 'localstack-compose.yml'), 'utf8');
    const started = new Set(/^\s*SERVICES:\s*(\S+)/m.exec(compose)![1]!.split(','));
    // CloudFormation's service names, as LocalStack names them; custom resources run as Lambdas.
    const needed = new Set(
      Object.values(template.toJSON().Resources as Record<string, { Type: string }>).flatMap(({ Type }) =>
        Type.startsWith('Custom::') || Type === 'AWS::CloudFormation::CustomResource' ? ['lambda', 'cloudformation'] : [Type.split('::')[1]!.toLowerCase()],
      ),
    );
    expect([...needed].filter((service) => !started.has(service)).sort()).toEqual([]);
    expect(needed).toContain('ses');
  });

  it('keeps the serverless parts: stream and its consumer, tables, bucket, topics, DLQs, functions', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    // Consent, and the record keys that seal the stream's records.
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    // The report bucket, its access-log bucket and the imports bucket.
    template.resourceCountIs('AWS::S3::Bucket', 3);
    template.resourceCountIs('AWS::SNS::Topic', 2);
    // The dead-letter queues of the aggregate and detect consumers.
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Kinesis::StreamConsumer', 1);
    for (const prefix of Object.values(HOUSE_FUNCTIONS)) {
      const { resource } = lambdaNamed(template, prefix);
      expect(resource.Properties.Runtime).toBe('nodejs22.x');
      expect(resource.Properties.VpcConfig).toBeUndefined();
    }
  });

  it('keeps the same event source mapping and dead-letter destination', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: lambdaNamed(template, HOUSE_FUNCTIONS.aggregate).id },
      BatchSize: 500,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue', 'ProcessingDeadLetterQueue'), 'Arn'] } } },
    });
  });

  it('exposes ingest, query, privacy and alerts through function URLs, as outputs', () => {
    template.resourceCountIs('AWS::Lambda::Url', 4);
    for (const name of ['ingest', 'query', 'privacy', 'alerts'] as const) {
      template.hasResourceProperties('AWS::Lambda::Url', {
        TargetFunctionArn: { 'Fn::GetAtt': [lambdaNamed(template, HOUSE_FUNCTIONS[name]).id, 'Arn'] },
        AuthType: 'NONE',
      });
    }
    for (const [output, url] of [['FunctionUrlsIngestUrl', 'IngestFunctionFunctionUrl'], ['FunctionUrlsQueryUrl', 'QueryFunctionFunctionUrl'], ['FunctionUrlsPrivacyUrl', 'PrivacyFunctionFunctionUrl'], ['FunctionUrlsAlertsUrl', 'AlertsFunctionFunctionUrl']]) {
      const outputs = template.findOutputs('*', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(url!), 'FunctionUrl'] } });
      expect(Object.keys(outputs)).toEqual([expect.stringMatching(new RegExp(`^${output}`))]);
    }
  });

  it('gives the function-URL handlers the secret they verify bearer tokens with, and only them', () => {
    const secret = synthStack({ target: 'localstack', functionUrlJwtSecret: 'a-secret-from-context' }).template;
    const envOf = (name: keyof typeof HOUSE_FUNCTIONS) => lambdaNamed(secret, HOUSE_FUNCTIONS[name]).resource.Properties.Environment.Variables;

    expect(envOf('ingest').FUNCTION_URL_JWT_SECRET).toBe('a-secret-from-context');
    expect(envOf('query').FUNCTION_URL_JWT_SECRET).toBe('a-secret-from-context');
    expect(envOf('aggregate').FUNCTION_URL_JWT_SECRET).toBeUndefined();
    const aws = synthStack().template;
    expect(lambdaNamed(aws, HOUSE_FUNCTIONS.ingest).resource.Properties.Environment.Variables.FUNCTION_URL_JWT_SECRET).toBeUndefined();
  });

  it('points the database functions at the compose file PostgreSQL and Redis by default', () => {
    const url = 'postgres://postgres:postgres@host.docker.internal:5432/analytics';
    expect(env('aggregate')).toMatchObject({ DATABASE_URL: url, REDIS_URL: 'redis://host.docker.internal:6379' });
    expect(env('query')).toMatchObject({ DATABASE_URL: url, K_ANONYMITY: '10' });
    expect(env('migrate')).toMatchObject({ DATABASE_URL: url });
    expect(env('rollUp')).toMatchObject({ DATABASE_URL: url });
    expect(env('purge')).toMatchObject({ DATABASE_URL: url });
    for (const name of ['aggregate', 'rollUp', 'purge', 'query', 'migrate'] as const) {
      expect(env(name)).not.toHaveProperty('DATABASE_SECRET_ARN');
      expect(env(name)).not.toHaveProperty('DATABASE_HOST');
    }
  });

  it('keeps the pepper secret for ingest', () => {
    expect(env('ingest')).toMatchObject({
      STREAM_NAME: { Ref: expect.stringMatching(/^IngestionStream/) },
      PEPPER_SECRET_ARN: { Ref: expect.stringMatching(/^StoragePepperSecret/) },
    });
  });

  it('takes the database and Redis URLs from context', () => {
    const { template: t } = synthStack({ target: 'localstack', databaseUrl: 'postgres://u:p@db:5432/x', redisUrl: 'redis://cache:6379' });
    expect(lambdaNamed(t, HOUSE_FUNCTIONS.aggregate).resource.Properties.Environment.Variables).toMatchObject({
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      REDIS_URL: 'redis://cache:6379',
    });
  });

  it('still applies migrations and keeps the alarms', () => {
    template.resourceCountIs('Custom::DatabaseMigrations', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
  });
});
