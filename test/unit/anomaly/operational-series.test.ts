import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { jsonLogger } from '../../../functions/adapters/log';
import { emfMetrics } from '../../../functions/adapters/aws/emf-metrics';
import { CloudWatchOperationalSeries } from '../../../functions/adapters/aws/cloudwatch-operational-series';
import { MinuteMetrics } from '../../../functions/adapters/local/minute-metrics';
import { PrometheusMetrics } from '../../../functions/local/prometheus-metrics';
import { INGEST_METRIC_NAMES } from '../../../functions/ports/anomalies';
import { USAGE_METRIC_NAMES } from '../../../functions/domain/operations/usage-metrics';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0);

describe('CloudWatchOperationalSeries', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  afterEach(() => cloudWatch.reset());

  it('reads rejected events over every code and the latency p95 of the EMF metrics, per minute, across pages', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'errors', Timestamps: [new Date(T0), new Date(T0 + 2 * MINUTE)], Values: [3, 1] },
          { Id: 'latency', Timestamps: [new Date(T0)], Values: [140] },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ MetricDataResults: [{ Id: 'latency', Timestamps: [new Date(T0 + MINUTE), new Date(T0 + 5 * MINUTE)], Values: [90, 999] }] });

    const series = new CloudWatchOperationalSeries(new CloudWatchClient({ region: 'us-east-1' }), 'TherapeuticAnalytics');
    expect(await series.readMinutes(T0, T0 + 3 * MINUTE)).toEqual({
      ingestErrors: [{ t: T0, value: 3 }, { t: T0 + 2 * MINUTE, value: 1 }],
      // The point after the range is left out.
      ingestLatencyP95Ms: [{ t: T0, value: 140 }, { t: T0 + MINUTE, value: 90 }],
    });

    const calls = cloudWatch.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(2);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ StartTime: new Date(T0), EndTime: new Date(T0 + 3 * MINUTE), ScanBy: 'TimestampAscending' });
    expect(input.MetricDataQueries![0]!.Expression).toBe(
      `SUM(SEARCH('{TherapeuticAnalytics,code,service} MetricName="${INGEST_METRIC_NAMES.rejected}" service="ingest"', 'Sum', 60))`,
    );
    expect(input.MetricDataQueries![1]!.MetricStat).toEqual({
      Metric: { Namespace: 'TherapeuticAnalytics', MetricName: INGEST_METRIC_NAMES.latency, Dimensions: [{ Name: 'service', Value: 'ingest' }] },
      Period: 60,
      Stat: 'p95',
    });
    expect(calls[1]!.args[0].input.NextToken).toBe('page-2');
  });
});

describe('emfMetrics', () => {
  it('writes a measurement with the unit its name says, under the namespace the CloudWatch reader queries', () => {
    const lines: string[] = [];
    emfMetrics('TherapeuticAnalytics', 'ingest', (line) => lines.push(line)).observe(INGEST_METRIC_NAMES.latency, 42.5);
    const line = JSON.parse(lines[0]!) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } };
    expect(line._aws.CloudWatchMetrics).toEqual([{ Namespace: 'TherapeuticAnalytics', Dimensions: [['service']], Metrics: [{ Name: 'ingest_latency_ms', Unit: 'Milliseconds' }] }]);
    expect(line).toMatchObject({ service: 'ingest', ingest_latency_ms: 42.5 });
  });

  it('writes a duration in seconds, with its dimensions, for CloudWatch to take percentiles of', () => {
    const lines: string[] = [];
    emfMetrics('TherapeuticAnalytics', 'aggregate', (line) => lines.push(line)).observe(USAGE_METRIC_NAMES.sessionDuration, 600, { session_type: 'ios' });
    const line = JSON.parse(lines[0]!) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } };
    expect(line._aws.CloudWatchMetrics).toEqual([{ Namespace: 'TherapeuticAnalytics', Dimensions: [['service', 'session_type']], Metrics: [{ Name: 'tta_session_duration_seconds', Unit: 'Seconds' }] }]);
    expect(line).toMatchObject({ service: 'aggregate', session_type: 'ios', tta_session_duration_seconds: 600 });
  });
});

describe('MinuteMetrics', () => {
  it('keeps the ingest rejections and latency p95 of each minute, and passes everything on to the Prometheus counters', async () => {
    let now = T0 + 5_000;
    const prometheus = new PrometheusMetrics(jsonLogger('test', 'silent'));
    const metrics = new MinuteMetrics(prometheus, { now: () => new Date(now) });
    metrics.count(INGEST_METRIC_NAMES.rejected, 2, { code: 'invalid_event' });
    metrics.count('events_accepted_total', 7);
    for (let ms = 1; ms <= 100; ms++) metrics.observe(INGEST_METRIC_NAMES.latency, ms);
    now = T0 + 2 * MINUTE + 1_000;
    metrics.count(INGEST_METRIC_NAMES.rejected, 1, { code: 'consent_missing' });

    const minutes = await metrics.readMinutes(T0, T0 + 3 * MINUTE);
    expect(minutes.ingestErrors).toEqual([{ t: T0, value: 2 }, { t: T0 + 2 * MINUTE, value: 1 }]);
    expect(minutes.ingestLatencyP95Ms).toHaveLength(1);
    expect(minutes.ingestLatencyP95Ms[0]!.t).toBe(T0);
    expect(minutes.ingestLatencyP95Ms[0]!.value).toBeCloseTo(95, -0.5);
    expect(await metrics.readMinutes(T0 + MINUTE, T0 + 2 * MINUTE)).toEqual({ ingestErrors: [], ingestLatencyP95Ms: [] });

    const text = await prometheus.render();
    expect(text).toContain('events_rejected_total{code="invalid_event"} 2');
    expect(text).toContain('events_accepted_total 7');
    expect(text).toContain('ingest_latency_ms_bucket{le="20"} 20\n');
    expect(text).toContain('ingest_latency_ms_sum 5050\ningest_latency_ms_count 100\n');
  });
});
