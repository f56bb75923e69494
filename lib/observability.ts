import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { AGGREGATE_LAG_LIMIT_MS, CRITICAL_ALERT_LATENCY_LIMIT_MS, DETECT_LAG_LIMIT_MS } from '../functions/domain/operations/health';
import { REPORT_KINDS } from '../functions/domain/reports/document';
import { USAGE_METRIC_NAMES } from '../functions/domain/operations/usage-metrics';
import { ALERT_LATENCY_METRIC, INGEST_METRIC_NAMES, METRICS_NAMESPACE, REPORT_METRIC_NAMES, REPORT_SERVICE } from '../functions/ports/anomalies';

export interface ObservabilityProps {
  readonly stream: kinesis.IStream;
  readonly aggregateFunction: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** Every function whose errors should reach a person, keyed by a stable name for the alarm id. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly alarmTopic: sns.ITopic;
  /** The safety path: a late or failed detect batch may be an unseen crisis, so its alarms page. */
  readonly safety: { readonly detectFunction: lambda.IFunction; readonly deadLetterQueue: sqs.IQueue; readonly alarmTopic: sns.ITopic };
  /** The report function's job queue's dead letters. */
  readonly reports: { readonly deadLetterQueue: sqs.IQueue };
  /** Aurora and the cache, where the stack builds them (not the LocalStack variant's external ones). */
  readonly stores?: { readonly cluster: rds.IDatabaseCluster; readonly proxy: rds.IDatabaseProxy; readonly cacheName: string };
}


// The detect consumer is held to the alerting promise (seconds), not the dashboards' (minutes).
// The same limits as the local runtime's /health and its detect-lag rule, so both modes page alike.
export const DETECT_ITERATOR_AGE_THRESHOLD_MS = DETECT_LAG_LIMIT_MS;

// Live counters are promised "near real time"; a consumer five minutes behind breaks that.
export const ITERATOR_AGE_THRESHOLD_MS = AGGREGATE_LAG_LIMIT_MS;

// The same limit as the buckets of the local runtime's alert latency histogram, so Grafana and
// CloudWatch draw the same line.
export const CRITICAL_ALERT_LATENCY_THRESHOLD_MS = CRITICAL_ALERT_LATENCY_LIMIT_MS;

/**
 * Alarms on the signals that mean events are late or lost (the warning topic, the safety path's
 * the critical one; README "Runbook" says what each means and what to do), and the operators'
 * dashboard of the same signals with the stores' health.
 */
export class Observability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const warn = new actions.SnsAction(props.alarmTopic);
    const page = new actions.SnsAction(props.safety.alarmTopic);
    // Every alarm here fires above a threshold, and no data (no traffic) is not a breach.
    const alarmAbove = (metric: cloudwatch.Metric | cloudwatch.MathExpression, id: string, options: { description: string; threshold: number; evaluationPeriods: number; to?: actions.SnsAction }): void => {
      const alarm = metric.createAlarm(this, id, {
        alarmDescription: options.description,
        threshold: options.threshold,
        evaluationPeriods: options.evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(options.to ?? warn);
      alarm.addOkAction(options.to ?? warn);
      this.alarms.push(alarm);
    };
    const perMinute = { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) };
    const reportFailures = () =>
      new cloudwatch.MathExpression({
        expression: REPORT_KINDS.map((_, index) => `failed${index}`).join(' + '),
        usingMetrics: Object.fromEntries(
          REPORT_KINDS.map((kind, index) => [
            `failed${index}`,
            new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: REPORT_METRIC_NAMES.runs, dimensionsMap: { service: REPORT_SERVICE, kind, outcome: 'failed' }, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
          ]),
        ),
        label: 'failed report runs',
        period: Duration.minutes(5),
      });
    const alertLatency = (dimensions: { channel: string; severity: string }, statistic: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: ALERT_LATENCY_METRIC, dimensionsMap: { service: 'detect', ...dimensions }, statistic, period: Duration.minutes(1) });

    alarmAbove(props.aggregateFunction.metric('IteratorAge', perMinute), 'AggregateIteratorAge', {
      description: 'The aggregate consumer is falling behind the event stream',
      threshold: ITERATOR_AGE_THRESHOLD_MS,
      evaluationPeriods: 5,
    });
    // Covers the stream side too: records waiting even when the consumer is not invoked at all.
    alarmAbove(props.stream.metricGetRecordsIteratorAgeMilliseconds(perMinute), 'StreamIteratorAge', {
      description: 'Records are waiting in the event stream',
      threshold: ITERATOR_AGE_THRESHOLD_MS,
      evaluationPeriods: 5,
    });
    // Any message here is a batch the consumer gave up on: events missing from the rollups.
    alarmAbove(props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(perMinute), 'DeadLetterQueueNotEmpty', {
      description: 'Failed aggregate batches are waiting in the DLQ for a replay',
      threshold: 0,
      evaluationPeriods: 1,
    });
    alarmAbove(props.safety.detectFunction.metric('IteratorAge', perMinute), 'DetectIteratorAge', {
      description: 'The detect consumer is behind the event stream: safety alerts are late',
      threshold: DETECT_ITERATOR_AGE_THRESHOLD_MS,
      evaluationPeriods: 1,
      to: page,
    });
    alarmAbove(props.safety.deadLetterQueue.metricApproximateNumberOfMessagesVisible(perMinute), 'DetectDeadLetterQueueNotEmpty', {
      description: 'The detect consumer gave up on a batch: its events were not checked for safety signals',
      threshold: 0,
      evaluationPeriods: 1,
      to: page,
    });
    // The slowest critical page of the minute, not a percentile: each one is a person in crisis.
    alarmAbove(alertLatency({ channel: 'sns', severity: 'critical' }, cloudwatch.Stats.MAXIMUM), 'CriticalAlertLatency', {
      description: 'A critical page went out more than a minute after its event reached ingest',
      threshold: CRITICAL_ALERT_LATENCY_THRESHOLD_MS,
      evaluationPeriods: 1,
      to: page,
    });
    // A job here was tried three times: a report not made, or not mailed, until someone sends it again.
    alarmAbove(props.reports.deadLetterQueue.metricApproximateNumberOfMessagesVisible(perMinute), 'ReportDeadLetterQueueNotEmpty', {
      description: 'A report job failed three times and waits in the report DLQ: a report was not made or not mailed',
      threshold: 0,
      evaluationPeriods: 1,
    });
    // A run that failed is recorded and its owners alerted without the invocation failing, so the
    // Errors alarm does not see it: the report function counts it.
    alarmAbove(reportFailures(), 'ReportFailures', {
      description: 'A report run failed (its recipients got a notice instead of the report)',
      threshold: 0,
      evaluationPeriods: 1,
    });
    for (const [name, fn] of Object.entries(props.functions)) {
      alarmAbove(fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }), `${name}Errors`, {
        description: `The ${name} function is throwing`,
        threshold: 0,
        evaluationPeriods: 1,
      });
    }
    this.dashboard = this.buildDashboard(props, perMinute);
  }

  private buildDashboard(props: ObservabilityProps, perMinute: cloudwatch.MetricOptions): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const ingest = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: 'ingest' }, statistic, period: Duration.minutes(1), label });
    // Rejections carry their code as a dimension too: summed over every code.
    const rejected = new cloudwatch.MathExpression({
      expression: `SUM(SEARCH('{${METRICS_NAMESPACE},code,service} MetricName="${INGEST_METRIC_NAMES.rejected}" service="ingest"', 'Sum', 60))`,
      label: 'rejected',
      period: Duration.minutes(1),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], width = 12) => new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });
    // Every channel and severity the functions have reported, without a metric per combination here.
    const search = (metricName: string, dimensions: string, statistic: string, label: string, periodMinutes = 1) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${dimensions}} MetricName="${metricName}"', '${statistic}', ${periodMinutes * 60})`,
        label,
        period: Duration.minutes(periodMinutes),
      });
    dashboard.addWidgets(
      graph('Ingest: events per minute', [ingest('events_accepted_total', cloudwatch.Stats.SUM, 'accepted'), rejected]),
      graph('Ingest: latency (ms)', [ingest(INGEST_METRIC_NAMES.latency, cloudwatch.Stats.p(95), 'p95'), ingest(INGEST_METRIC_NAMES.latency, cloudwatch.Stats.p(50), 'p50')]),
    );
    // The platform's usage metrics (functions/domain/operations/usage-metrics.ts), the same counts
    // as the local runtime's tta_ metrics for Grafana: the aggregate function's of the events it
    // applied (once per eventId), ingest's of those it refused. Named by dimension in the legend.
    const byDimension = (...dimensions: string[]) => dimensions.map((name) => `\${PROP('Dim.${name}')}`).join(' ');
    dashboard.addWidgets(
      graph('Sessions started per minute, by session type (platform)', [search(USAGE_METRIC_NAMES.sessions, 'service,session_type', 'Sum', byDimension('session_type'))], [], 8),
      graph('Interactions per minute, by type and success', [search(USAGE_METRIC_NAMES.interactions, 'interaction_type,service,success', 'Sum', byDimension('interaction_type', 'success'))], [], 8),
      graph(
        'Session duration (s), by session type: median and p90 per hour',
        [search(USAGE_METRIC_NAMES.sessionDuration, 'service,session_type', 'p50', `p50 ${byDimension('session_type')}`, 60), search(USAGE_METRIC_NAMES.sessionDuration, 'service,session_type', 'p90', `p90 ${byDimension('session_type')}`, 60)],
        [],
        8,
      ),
    );
    dashboard.addWidgets(
      graph('Iterator age per consumer (ms): how late counts and safety checks are', [
        props.aggregateFunction.metric('IteratorAge', { ...perMinute, label: 'aggregate' }),
        props.safety.detectFunction.metric('IteratorAge', { ...perMinute, label: 'detect (safety)' }),
        props.stream.metricGetRecordsIteratorAgeMilliseconds({ ...perMinute, label: 'stream' }),
      ]),
      graph('Dead-letter queues: batches waiting for a replay', [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...perMinute, label: 'aggregate' }),
        props.safety.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...perMinute, label: 'detect (safety)' }),
      ]),
    );
    dashboard.addWidgets(
      graph('Alerts: p95 latency from event receipt to notification sent (ms), per channel and severity', [
        search(ALERT_LATENCY_METRIC, 'channel,service,severity', 'p95', 'p95'),
      ]),
      graph(
        'Report runs (per hour, by outcome) and their duration (ms)',
        [search(REPORT_METRIC_NAMES.runs, 'kind,outcome,service', 'Sum', 'runs', 60)],
        [search(REPORT_METRIC_NAMES.duration, 'kind,service', 'Maximum', 'longest', 60)],
      ),
    );
    dashboard.addWidgets(
      graph(
        'Function errors (5 min)',
        Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5), label: name })),
      ),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms (README, Runbook)', alarms: this.alarms, width: 12, height: 6 }),
    );
    if (props.stores) {
      const { cluster, proxy, cacheName } = props.stores;
      const cache = (metricName: string, label: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { clusterId: cacheName }, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(1), label });
      dashboard.addWidgets(
        graph('Aurora: capacity used (%) and connections', [
          cluster.metric('ACUUtilization', { ...perMinute, label: 'ACU utilisation %' }),
          cluster.metricDatabaseConnections({ ...perMinute, label: 'cluster connections' }),
          new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName: 'ClientConnections', dimensionsMap: { ProxyName: proxy.dbProxyName }, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(1), label: 'proxy client connections' }),
        ]),
        graph('Cache: throttled commands and processing units', [cache('ThrottledCmds', 'throttled commands'), cache('ElastiCacheProcessingUnits', 'ECPUs')]),
      );
    }
    return dashboard;
  }
}
