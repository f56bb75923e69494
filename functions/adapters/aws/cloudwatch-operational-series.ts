import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { MinuteValue, OperationalMinutes } from '../../domain/anomaly/watched-series';
import { INGEST_METRIC_NAMES, type OperationalSeries } from '../../ports/anomalies';

const MINUTE_MS = 60_000;

/**
 * Reads back per minute what the ingest function wrote as embedded metrics (emf-metrics.ts):
 * rejected events, summed over every rejection code (each code is a metric of its own, hence
 * the SEARCH), and the p95 of the request latency. CloudWatch leaves out minutes with no data.
 */
export class CloudWatchOperationalSeries implements OperationalSeries {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly namespace: string,
    private readonly service = 'ingest',
  ) {}

  async readMinutes(from: number, to: number): Promise<OperationalMinutes> {
    const queries: MetricDataQuery[] = [
      {
        Id: 'errors',
        Expression: `SUM(SEARCH('{${this.namespace},code,service} MetricName="${INGEST_METRIC_NAMES.rejected}" service="${this.service}"', 'Sum', 60))`,
        Period: 60,
      },
      {
        Id: 'latency',
        MetricStat: {
          Metric: { Namespace: this.namespace, MetricName: INGEST_METRIC_NAMES.latency, Dimensions: [{ Name: 'service', Value: this.service }] },
          Period: 60,
          Stat: 'p95',
        },
      },
    ];
    const results: MetricDataResult[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(from), EndTime: new Date(to), ScanBy: 'TimestampAscending', NextToken: nextToken }),
      );
      results.push(...(page.MetricDataResults ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return { ingestErrors: minutesOf(results, 'errors', from, to), ingestLatencyP95Ms: minutesOf(results, 'latency', from, to) };
  }
}

/** A query's points (pages of one query concatenated), by minute, within [from, to). */
function minutesOf(results: readonly MetricDataResult[], id: string, from: number, to: number): MinuteValue[] {
  const byMinute = new Map<number, number>();
  for (const result of results.filter((r) => r.Id === id)) {
    (result.Timestamps ?? []).forEach((timestamp, i) => {
      const t = Math.floor(timestamp.getTime() / MINUTE_MS) * MINUTE_MS;
      const value = result.Values?.[i];
      if (value !== undefined && t >= from && t < to) byMinute.set(t, value);
    });
  }
  return [...byMinute].sort(([a], [b]) => a - b).map(([t, value]) => ({ t, value }));
}
