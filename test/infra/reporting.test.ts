import { Match, type Template } from 'aws-cdk-lib/assertions';
import { queryEnv, reportEnv } from '../../functions/config/lambda';
import { REPORT_FUNCTION, REPORT_QUEUE } from '../../lib/reporting';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

function statementsOfRole(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((policy) => list(policy.Properties.PolicyDocument.Statement) as Statement[]);
}
const roleOf = (template: Template, prefix: string) => lambdaNamed(template, prefix).resource.Properties.Role['Fn::GetAtt'][0] as string;
const withAction = (statements: Statement[], action: string) => statements.filter((s) => list(s.Action).includes(action));

describe('reporting', () => {
  const { template } = synthStack({ alertEmailFrom: 'alerts@example.org', alertEmailTo: 'oncall@example.org', reportEmailFrom: 'reports@example.org' });
  const queue = logicalIdOf(template, 'AWS::SQS::Queue', 'ReportingJobQueue');
  const deadLetters = logicalIdOf(template, 'AWS::SQS::Queue', 'ReportingDeadLetterQueue');
  const key = logicalIdOf(template, 'AWS::KMS::Key', 'ReportingKey');
  const group = logicalIdOf(template, 'AWS::Scheduler::ScheduleGroup', 'ReportingScheduleGroup');
  const schedulerRole = logicalIdOf(template, 'AWS::IAM::Role', 'ReportingSchedulerRole');
  const report = lambdaNamed(template, HOUSE_FUNCTIONS.report);

  it('queues jobs encrypted with its key, moves a job to the DLQ after three receives, and hides a job longer than a run can take', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetters, 'Arn'] }, maxReceiveCount: 3 },
      VisibilityTimeout: REPORT_QUEUE.visibilityTimeout.toSeconds(),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] }, MessageRetentionPeriod: 14 * 86_400 });
    expect(REPORT_QUEUE.visibilityTimeout.toSeconds()).toBeGreaterThan(report.resource.Properties.Timeout as number);
  });

  it('runs the report function on one job at a time with partial batch failures, a full vCPU and five minutes', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: report.id },
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: REPORT_QUEUE.maxConcurrency },
    });
    expect(report.resource.Properties).toMatchObject({ MemorySize: REPORT_FUNCTION.memorySize, Timeout: 300 });
    expect(report.resource.Properties.Environment.Variables).toMatchObject({ NODE_ENV: 'production', REPORT_EMAIL_FROM: { Ref: logicalIdOf(template, 'AWS::SES::EmailIdentity', 'ReportingSender') } });
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'reports@example.org' });
  });

  it('gives the report function and the query function every variable their configuration schemas require', () => {
    for (const [prefix, schema] of [[HOUSE_FUNCTIONS.report, reportEnv], [HOUSE_FUNCTIONS.query, queryEnv]] as const) {
      const variables = lambdaNamed(template, prefix).resource.Properties.Environment.Variables as Record<string, unknown>;
      const required = Object.entries(schema.shape).filter(([, field]) => !field.safeParse(undefined).success).map(([name]) => name);
      expect(required.filter((name) => !(name in variables))).toEqual([]);
    }
  });

  it('lets EventBridge Scheduler, for this group only, send to the job queue and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': { 'Fn::GetAtt': [group, 'Arn'] } } },
          }),
        ],
      },
    });
    const statements = statementsOfRole(template, schedulerRole);
    expect(statements.flatMap((s) => list(s.Action)).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'sqs:SendMessage']);
    expect(withAction(statements, 'sqs:SendMessage').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [queue, 'Arn'] }]);
  });

  it("lets the query function enqueue jobs and manage the group's schedules, passing the scheduler role and no other", () => {
    const statements = statementsOfRole(template, roleOf(template, HOUSE_FUNCTIONS.query));
    expect(withAction(statements, 'sqs:SendMessage').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [queue, 'Arn'] }]);
    const [manage, ...more] = withAction(statements, 'scheduler:CreateSchedule');
    expect(more).toEqual([]);
    expect(list(manage!.Action).sort()).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:UpdateSchedule']);
    expect(JSON.stringify(manage!.Resource)).toMatch(/:schedule\/AnalyticsStack-Reporting-ScheduleGroup-[0-9A-F]{8}\/\*"/);
    expect(withAction(statements, 'iam:PassRole')).toEqual([
      expect.objectContaining({ Resource: { 'Fn::GetAtt': [schedulerRole, 'Arn'] }, Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } }),
    ]);
  });

  it('lets the report function send e-mail from the report sender only, and publish to the operations topic only', () => {
    const statements = statementsOfRole(template, roleOf(template, HOUSE_FUNCTIONS.report));
    const sender = logicalIdOf(template, 'AWS::SES::EmailIdentity', 'ReportingSender');
    expect(withAction(statements, 'ses:SendEmail').map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(`identity/",{"Ref":"${sender}"}`)]);
    expect(withAction(statements, 'sns:Publish').map((s) => s.Resource)).toEqual([{ Ref: logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingWarningTopic') }]);
  });

  it('mails from the alert sender when no report sender is set, and mails nothing without either', () => {
    const shared = synthStack({ alertEmailFrom: 'alerts@example.org', alertEmailTo: 'oncall@example.org' }).template;
    shared.resourceCountIs('AWS::SES::EmailIdentity', 1);
    expect(lambdaNamed(shared, HOUSE_FUNCTIONS.report).resource.Properties.Environment.Variables.REPORT_EMAIL_FROM).toEqual({ Ref: logicalIdOf(shared, 'AWS::SES::EmailIdentity', 'AlertingSender') });

    const bare = synthStack().template;
    expect(lambdaNamed(bare, HOUSE_FUNCTIONS.report).resource.Properties.Environment.Variables.REPORT_EMAIL_FROM).toBeUndefined();
    expect(withAction(statementsOfRole(bare, roleOf(bare, HOUSE_FUNCTIONS.report)), 'ses:SendEmail')).toEqual([]);
  });

  it('alarms on the first dead-lettered job and on any failed run', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetters, 'QueueName'] } }],
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('report run failed'),
      Metrics: Match.arrayWith([
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'report_runs_total', Dimensions: Match.arrayWith([{ Name: 'outcome', Value: 'failed' }, { Name: 'service', Value: 'report' }]) }) }) }),
      ]),
    });
  });
});
