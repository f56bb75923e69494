import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { CRITICAL_ALERT_LATENCY_THRESHOLD_MS, DETECT_ITERATOR_AGE_THRESHOLD_MS } from '../../lib/observability';
import { ALERT_LATENCY_METRIC, METRICS_NAMESPACE } from '../../functions/ports/anomalies';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

describe('real-time monitoring', () => {
  const { template } = synthStack({ dashboardUrl: 'https://dashboard.example.org/care' });
  const detect = lambdaNamed(template, HOUSE_FUNCTIONS.detect);
  const monitor = lambdaNamed(template, HOUSE_FUNCTIONS.monitor);
  const alerts = lambdaNamed(template, HOUSE_FUNCTIONS.alerts);
  const consumer = logicalIdOf(template, 'AWS::Kinesis::StreamConsumer', 'MonitoringDetectConsumer');
  const detectQueue = logicalIdOf(template, 'AWS::SQS::Queue', 'MonitoringDeadLetterQueue');
  const criticalTopic = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingCriticalTopic');

  it('gives the detect function an enhanced fan-out consumer of its own on the event stream', () => {
    template.hasResourceProperties('AWS::Kinesis::StreamConsumer', {
      StreamARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestionStream'), 'Arn'] },
      ConsumerName: 'detect',
    });
  });

  it('feeds detect through that consumer with no batching window, bisecting, partial failures and its own DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: detect.id },
      EventSourceArn: { 'Fn::GetAtt': [consumer, 'ConsumerARN'] },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 300,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [detectQueue, 'Arn'] } } },
    });
  });

  it("gives detect the interventions' bus, and nothing else may put on it", () => {
    const bus = logicalIdOf(template, 'AWS::Events::EventBus', 'MonitoringInterventionsBus');
    expect(detect.resource.Properties.Environment.Variables.INTERVENTION_BUS_NAME).toEqual({ Ref: bus });
    const putters = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).some((statement) => [statement.Action].flat().includes('events:PutEvents')),
    );
    expect(putters).toHaveLength(1);
    expect(JSON.stringify(putters[0]!.Properties.PolicyDocument)).toContain(JSON.stringify({ 'Fn::GetAtt': [bus, 'Arn'] }));
    expect(putters[0]!.Properties.Roles).toEqual([{ Ref: detect.resource.Properties.Role['Fn::GetAtt'][0] }]);
  });

  it("ships an example of the app's subscription: a rule on the bus to an encrypted queue with a dead-letter queue", () => {
    const bus = logicalIdOf(template, 'AWS::Events::EventBus', 'MonitoringInterventionsBus');
    const appQueue = logicalIdOf(template, 'AWS::SQS::Queue', 'MonitoringInterventionsAppQueue');
    const undelivered = logicalIdOf(template, 'AWS::SQS::Queue', 'MonitoringInterventionsUndeliveredQueue');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { 'Fn::GetAtt': [bus, 'Arn'] },
      EventPattern: { source: ['therapeutic-analytics.detect'], 'detail-type': ['intervention.recommended'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [appQueue, 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [undelivered, 'Arn'] } }, RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 8 } })],
    });
    for (const queue of [appQueue, undelivered]) expect(template.toJSON().Resources[queue].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key', 'MonitoringInterventionsKey'), 'Arn'] });
  });

  it('runs the monitor every minute', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 minute)' } }));
    const targets = rules.flatMap((rule) => rule.Properties.Targets as { Arn: unknown }[]).map((target) => target.Arn);
    expect(targets).toContainEqual({ 'Fn::GetAtt': [monitor.id, 'Arn'] });
  });

  it('tells the notifying functions where the topics are and where messages link to; the API function gets neither', () => {
    for (const fn of [detect, monitor]) {
      expect(fn.resource.Properties.Environment.Variables).toMatchObject({
        DASHBOARD_URL: 'https://dashboard.example.org/care',
        ALERT_TOPIC_CRITICAL_ARN: { Ref: criticalTopic },
        ALERT_TOPIC_WARNING_ARN: { Ref: logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingWarningTopic') },
        ALERT_TOPIC_ESCALATION_ARN: { Ref: logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingEscalationTopic') },
        ALERT_TOPIC_CLINICIAN_ARN: { Ref: logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingClinicianTopic') },
      });
    }
    expect(alerts.resource.Properties.Environment.Variables.ALERT_TOPIC_CRITICAL_ARN).toBeUndefined();
    expect(alerts.resource.Properties.Timeout).toBe(29);
  });

  it('pages (critical topic) when detect falls behind the stream or gives up on a batch', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: detect.id } }],
      Threshold: DETECT_ITERATOR_AGE_THRESHOLD_MS,
      AlarmActions: [{ Ref: criticalTopic }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [detectQueue, 'QueueName'] } }],
      Threshold: 0,
      AlarmActions: [{ Ref: criticalTopic }],
    });
  });

  it('pages (critical topic) when a critical page went out more than a minute after its event reached ingest', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: ALERT_LATENCY_METRIC,
      // CloudWatch matches an embedded metric line's dimension set whole, in any order.
      Dimensions: Match.arrayWith([{ Name: 'channel', Value: 'sns' }]),
      Statistic: 'Maximum',
      Period: 60,
      Threshold: CRITICAL_ALERT_LATENCY_THRESHOLD_MS,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: criticalTopic }],
    });
    const [latency, ...more] = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: ALERT_LATENCY_METRIC } }));
    expect(more).toEqual([]);
    expect(latency!.Properties.Dimensions.map((d: { Name: string; Value: string }) => `${d.Name}=${d.Value}`).sort()).toEqual(['channel=sns', 'service=detect', 'severity=critical']);
  });

  it('routes the monitoring API to the alerts function', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration', { Properties: { IntegrationUri: { 'Fn::GetAtt': [alerts.id, 'Arn'] } } });
    const [integration] = Object.keys(integrations);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { Target: { 'Fn::Join': ['', ['integrations/', { Ref: integration }]] } } }));
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([
      'DELETE /v1/silences/{id}',
      'GET /v1/alert-rules',
      'GET /v1/alerts',
      'GET /v1/anomalies',
      'GET /v1/clinicians/{clinicianId}/preferences',
      'GET /v1/silences',
      'POST /v1/alerts/{id}/ack',
      'POST /v1/silences',
      'PUT /v1/alert-rules',
      'PUT /v1/clinicians/{clinicianId}/preferences',
    ]);
  });
});

describe('the operators\' dashboard and runbook', () => {
  const { template } = synthStack();
  // The body is a Fn::Join of JSON text and references: the text, references left out.
  const [dashboard, ...others] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = (dashboard!.Properties.DashboardBody['Fn::Join'][1] as unknown[]).filter((part): part is string => typeof part === 'string').join('');

  it('is one dashboard', () => {
    expect(others).toEqual([]);
  });

  it.each([
    ['ingest rate', 'events_accepted_total'],
    ['ingest errors', 'events_rejected_total'],
    ['ingest latency', 'ingest_latency_ms'],
    ['iterator age per consumer', '"IteratorAge"'],
    ['dead-letter queue depth', 'ApproximateNumberOfMessagesVisible'],
    ['function errors', '"AWS/Lambda","Errors"'],
    ['database health', 'ACUUtilization'],
    ['proxy connections', 'ClientConnections'],
    ['cache health', 'ElastiCacheProcessingUnits'],
    ['alert latency per channel and severity', 'MetricName=\\"alert_latency_ms\\"'],
    ['report runs by outcome', 'MetricName=\\"report_runs_total\\"'],
    ['report duration', 'MetricName=\\"report_duration_ms\\"'],
    ['sessions by session type', '{TherapeuticAnalytics,service,session_type} MetricName=\\"tta_user_sessions_total\\"'],
    ['interactions by type and success', '{TherapeuticAnalytics,interaction_type,service,success} MetricName=\\"tta_user_interactions_total\\"'],
    ['session duration quantiles', 'MetricName=\\"tta_session_duration_seconds\\"\', \'p90\''],
  ])('charts %s', (_, metric) => {
    expect(body).toContain(metric);
  });

  it('has a runbook entry in the README for every alarm', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const runbook = readme.slice(readme.indexOf('## Runbook'), readme.indexOf('\n## ', readme.indexOf('## Runbook') + 1));
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).map((id) => /^Observability(\w+?)[0-9A-F]{8}$/.exec(id)?.[1] ?? id);
    expect(alarms.length).toBeGreaterThan(10);
    expect(alarms.filter((alarm) => !runbook.includes(`**${alarm}**`))).toEqual([]);
  });
});
