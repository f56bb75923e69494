import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { migrationsHash } from '../../lib/migrations';
import { ITERATOR_AGE_THRESHOLD_MS } from '../../lib/observability';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

describe('stream processing, migrations and alarms', () => {
  const { template } = synthStack({ alertEmail: 'oncall@example.org', alertPhone: '+447700900123' });
  const aggregate = lambdaNamed(template, HOUSE_FUNCTIONS.aggregate).id;
  const dlq = logicalIdOf(template, 'AWS::SQS::Queue', 'ProcessingDeadLetterQueue');
  const warningTopic = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingWarningTopic');

  it('feeds the aggregate function from the stream in large, bisecting, partial-failure batches', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: aggregate },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestionStream'), 'Arn'] },
      BatchSize: 2000,
      MaximumBatchingWindowInSeconds: 2,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'TRIM_HORIZON',
    });
  });

  it('runs the roll-up every minute, only once the migrations are applied', () => {
    const rollUp = lambdaNamed(template, HOUSE_FUNCTIONS.rollUp);
    expect(rollUp.resource.Properties).toMatchObject({ Timeout: 300 });
    const [rule] = Object.values(template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 minute)' } }));
    expect(rule!.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [rollUp.id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })]);
    const [migrations] = Object.keys(template.findResources('Custom::DatabaseMigrations'));
    expect(rule!.DependsOn).toContain(migrations);
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', FunctionName: { 'Fn::GetAtt': [rollUp.id, 'Arn'] }, Principal: 'events.amazonaws.com' });
  });

  it('runs the retention purge daily with the retention from context, once the migrations are applied', () => {
    const custom = synthStack({ idempotencyKeyRetentionDays: 60, minuteRollupRetentionDays: 3, hourRollupRetentionDays: 90, auditRetentionDays: 3000, alertRetentionDays: 120 }).template;
    const purge = lambdaNamed(custom, HOUSE_FUNCTIONS.purge);
    expect(purge.resource.Properties.Environment.Variables).toMatchObject({
      RETENTION_IDEMPOTENCY_KEY_DAYS: '60',
      RETENTION_MINUTE_ROLLUP_DAYS: '3',
      RETENTION_HOUR_ROLLUP_DAYS: '90',
      RETENTION_AUDIT_DAYS: '3000',
      RETENTION_REPORT_DAYS: '365',
      RETENTION_ALERT_DAYS: '120',
    });
    expect(lambdaNamed(template, HOUSE_FUNCTIONS.purge).resource.Properties.Environment.Variables).toMatchObject({
      RETENTION_IDEMPOTENCY_KEY_DAYS: '31',
      RETENTION_MINUTE_ROLLUP_DAYS: '7',
      RETENTION_HOUR_ROLLUP_DAYS: '400',
      RETENTION_AUDIT_DAYS: '2190',
      RETENTION_ALERT_DAYS: '365',
    });
    // The writers of rollups skip the minute rows the purge would delete.
    for (const writer of [HOUSE_FUNCTIONS.aggregate, HOUSE_FUNCTIONS.import]) expect(lambdaNamed(custom, writer).resource.Properties.Environment.Variables).toMatchObject({ RETENTION_MINUTE_ROLLUP_DAYS: '3' });
    // Dashboards keep each widget's range within the rollups it reads.
    expect(lambdaNamed(custom, HOUSE_FUNCTIONS.query).resource.Properties.Environment.Variables).toMatchObject({ RETENTION_MINUTE_ROLLUP_DAYS: '3', RETENTION_HOUR_ROLLUP_DAYS: '90' });
    const [rule] = Object.values(custom.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 day)' } }));
    expect(rule!.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [purge.id, 'Arn'] } })]);
    expect(rule!.DependsOn).toContain(Object.keys(custom.findResources('Custom::DatabaseMigrations'))[0]);
  });

  it('sends batches that exhaust their retries to the encrypted SQS dead-letter queue', () => {
    const destination = new Capture();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: destination } },
    });
    expect(destination.asObject()).toEqual({ 'Fn::GetAtt': [dlq, 'Arn'] });
    // The function, not the service, sends to the DLQ: it must be allowed to, including the key.
    const aggregateRole = lambdaNamed(template, HOUSE_FUNCTIONS.aggregate).resource.Properties.Role['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: aggregateRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [dlq, 'Arn'] } }),
          Match.objectLike({ Action: Match.arrayWith(['kms:GenerateDataKey']), Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ProcessingKey'), 'Arn'] } }),
        ]),
      },
    });
  });

  it('alarms on the aggregate iterator age and on the stream GetRecords iterator age', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: aggregate } }],
      Statistic: 'Maximum',
      Threshold: ITERATOR_AGE_THRESHOLD_MS,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: warningTopic }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      AlarmActions: [{ Ref: warningTopic }],
    });
  });

  it('alarms as soon as one message is visible in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: warningTopic }],
    });
  });

  it.each(Object.entries(HOUSE_FUNCTIONS))('alarms on errors of the %s function', (_name, prefix) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaNamed(template, prefix).id } }],
      Statistic: 'Sum',
      Threshold: 0,
      AlarmActions: [{ Ref: warningTopic }],
    });
  });

  it('subscribes the alert e-mail to both topics and the phone to critical only', () => {
    const critical = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingCriticalTopic');
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org', TopicArn: { Ref: critical } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org', TopicArn: { Ref: warningTopic } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sms', Endpoint: '+447700900123', TopicArn: { Ref: critical } });
    template.resourceCountIs('AWS::SNS::Subscription', 3);
  });

  it('creates no subscription when no contact is configured', () => {
    synthStack().template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('applies migrations at deploy through the migrate function, keyed by the migration files hash', () => {
    const migrate = lambdaNamed(template, HOUSE_FUNCTIONS.migrate).id;
    template.hasResourceProperties('Custom::DatabaseMigrations', { MigrationsHash: migrationsHash() });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [migrate, 'Arn'] } } },
    });
    // Waits for the writer instance, not just the cluster resource, before connecting.
    const resource = Object.values(template.findResources('Custom::DatabaseMigrations'))[0]!;
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^DatabaseClusterWriter/)]));
  });

  it('changes the migrations hash when a migration file changes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    writeFileSync(path.join(dir, '001_init.sql'), 'CREATE TABLE a (id int);');
    writeFileSync(path.join(dir, 'README.md'), 'not a migration');
    const before = migrationsHash(dir);
    writeFileSync(path.join(dir, 'README.md'), 'still not a migration');
    expect(migrationsHash(dir)).toBe(before);
    writeFileSync(path.join(dir, '001_init.sql'), 'CREATE TABLE a (id bigint);');
    expect(migrationsHash(dir)).not.toBe(before);
  });
});
