import { Match } from 'aws-cdk-lib/assertions';
import { DETECT_ITERATOR_AGE_THRESHOLD_MS } from '../../lib/observability';
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

  it('routes the monitoring API to the alerts function', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration', { Properties: { IntegrationUri: { 'Fn::GetAtt': [alerts.id, 'Arn'] } } });
    const [integration] = Object.keys(integrations);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { Target: { 'Fn::Join': ['', ['integrations/', { Ref: integration }]] } } }));
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([
      'DELETE /v1/silences/{id}',
      'GET /v1/alert-rules',
      'GET /v1/alerts',
      'GET /v1/anomalies',
      'GET /v1/silences',
      'POST /v1/alerts/{id}/ack',
      'POST /v1/silences',
      'PUT /v1/alert-rules',
    ]);
  });
});
