import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

describe('target=localstack', () => {
  const { template } = synthStack({ target: 'localstack' });
  const env = (name: keyof typeof HOUSE_FUNCTIONS) => lambdaNamed(template, HOUSE_FUNCTIONS[name]).resource.Properties.Environment.Variables;

  it.each(['AWS::RDS::DBCluster', 'AWS::RDS::DBProxy', 'AWS::ApiGatewayV2::Api', 'AWS::ElastiCache::ServerlessCache', 'AWS::EC2::VPC', 'AWS::Cognito::UserPool', 'AWS::CloudFront::Distribution'])(
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
    // The report bucket, its access-log bucket, the imports bucket and the model bucket.
    template.resourceCountIs('AWS::S3::Bucket', 4);
    // Critical, warning, escalation and the clinicians'.
    template.resourceCountIs('AWS::SNS::Topic', 4);
    // The dead-letter queues of the aggregate and detect consumers, the report job queue and its DLQ,
    // the example app queue of the interventions and its DLQ.
    template.resourceCountIs('AWS::SQS::Queue', 6);
    template.resourceCountIs('AWS::Events::EventBus', 1);
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
      BatchSize: 2000,
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

  const secretNamed = (t: typeof template, prefix: string) => logicalIdOf(t, 'AWS::SecretsManager::Secret', prefix);
  const grantsRead = (t: typeof template, fn: keyof typeof HOUSE_FUNCTIONS, secret: string) => {
    const role = lambdaNamed(t, HOUSE_FUNCTIONS[fn]).resource.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }));
    return policies.some((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).some(
        (statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue') && JSON.stringify(statement.Resource) === JSON.stringify({ Ref: secret }),
      ),
    );
  };

  it('keeps the database URL and the token key out of every function environment', () => {
    const t = synthStack({ target: 'localstack', functionUrlJwtSecret: 'a-secret-from-context', databaseUrl: 'postgres://u:a-db-password@db:5432/x' }).template;
    const environments = JSON.stringify(Object.values(t.findResources('AWS::Lambda::Function')).map((fn) => fn.Properties.Environment ?? {}));
    expect(environments).not.toContain('a-secret-from-context');
    expect(environments).not.toContain('a-db-password');
    expect(environments).not.toContain('FUNCTION_URL_JWT_SECRET"');
    expect(environments).not.toContain('DATABASE_URL"');
  });

  it('gives the function-URL handlers the ARN of the secret holding their token key, and read access to it, and only them', () => {
    const t = synthStack({ target: 'localstack', functionUrlJwtSecret: 'a-secret-from-context' }).template;
    const tokenSecret = secretNamed(t, 'FunctionUrlsTokenSecret');
    t.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: 'a-secret-from-context', KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageKey'), 'Arn'] } });
    const envOf = (name: keyof typeof HOUSE_FUNCTIONS) => lambdaNamed(t, HOUSE_FUNCTIONS[name]).resource.Properties.Environment.Variables;
    for (const name of ['ingest', 'query', 'privacy', 'alerts'] as const) {
      expect(envOf(name).FUNCTION_URL_JWT_SECRET_ARN).toEqual({ Ref: tokenSecret });
      expect(grantsRead(t, name, tokenSecret)).toBe(true);
    }
    expect(envOf('aggregate').FUNCTION_URL_JWT_SECRET_ARN).toBeUndefined();
    expect(grantsRead(t, 'aggregate', tokenSecret)).toBe(false);
    const aws = synthStack().template;
    expect(lambdaNamed(aws, HOUSE_FUNCTIONS.ingest).resource.Properties.Environment.Variables.FUNCTION_URL_JWT_SECRET_ARN).toBeUndefined();
  });

  it('points the database functions at the compose file PostgreSQL (by a secret) and Redis by default', () => {
    const urlSecret = secretNamed(template, 'ExternalDatabaseUrlSecret');
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: 'postgres://postgres:postgres@host.docker.internal:5432/analytics',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageKey'), 'Arn'] },
    });
    expect(env('aggregate')).toMatchObject({ DATABASE_URL_SECRET_ARN: { Ref: urlSecret }, REDIS_URL: 'redis://host.docker.internal:6379' });
    expect(env('query')).toMatchObject({ DATABASE_URL_SECRET_ARN: { Ref: urlSecret }, K_ANONYMITY: '10' });
    for (const name of ['aggregate', 'rollUp', 'purge', 'query', 'privacy', 'migrate', 'detect', 'monitor', 'alerts'] as const) {
      expect(env(name).DATABASE_URL_SECRET_ARN).toEqual({ Ref: urlSecret });
      expect(grantsRead(template, name, urlSecret)).toBe(true);
      expect(env(name)).not.toHaveProperty('DATABASE_SECRET_ARN');
      expect(env(name)).not.toHaveProperty('DATABASE_HOST');
    }
    expect(env('ingest')).not.toHaveProperty('DATABASE_URL_SECRET_ARN');
  });

  it('hosts no web app (LocalStack community has no CloudFront): alert messages link to dashboardUrl, or a placeholder', () => {
    expect(env('detect').DASHBOARD_URL).toBe('https://dashboard.example.org');
    expect(lambdaNamed(synthStack({ target: 'localstack', dashboardUrl: 'https://care.example.org' }).template, HOUSE_FUNCTIONS.monitor).resource.Properties.Environment.Variables.DASHBOARD_URL).toBe('https://care.example.org');
  });

  it('keeps the pepper secret for ingest', () => {
    expect(env('ingest')).toMatchObject({
      STREAM_NAME: { Ref: expect.stringMatching(/^IngestionStream/) },
      PEPPER_SECRET_ARN: { Ref: expect.stringMatching(/^StoragePepperSecret/) },
    });
  });

  it('takes the database and Redis URLs from context', () => {
    const { template: t } = synthStack({ target: 'localstack', databaseUrl: 'postgres://u:p@db:5432/x', redisUrl: 'redis://cache:6379' });
    t.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: 'postgres://u:p@db:5432/x' });
    expect(lambdaNamed(t, HOUSE_FUNCTIONS.aggregate).resource.Properties.Environment.Variables).toMatchObject({ REDIS_URL: 'redis://cache:6379' });
  });

  it('still applies migrations and keeps the alarms', () => {
    template.resourceCountIs('Custom::DatabaseMigrations', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
  });
});
