import { Counter, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../adapters/log';
import type { Metrics } from '../ports';
import { ALERT_LATENCY_METRIC, INGEST_METRIC_NAMES, REPORT_METRIC_NAMES } from '../ports/anomalies';
import { SESSION_DURATION_BUCKETS_SECONDS, USAGE_METRIC_NAMES } from '../domain/operations/usage-metrics';
import { CRITICAL_ALERT_LATENCY_LIMIT_MS } from '../domain/operations/health';
import { HISTORY_SIGNALS_METRIC } from '../handlers/detect';
import { ERASED_RECORDS_METRIC } from '../handlers/kinesis-batch';
import { INTERVENTIONS_METRIC } from '../use-cases/interventions';

interface MetricDescription {
  readonly kind: 'counter' | 'distribution';
  readonly help: string;
  readonly labels?: readonly string[];
  /** A distribution with buckets is a histogram; without, a summary of its `_sum` and `_count`. */
  readonly buckets?: readonly number[];
}

/**
 * Every metric the product reports, made when the runtime starts: /metrics lists each from the
 * first scrape (a counter without labels at 0, so a rate has a start), with its HELP line and the
 * labels it takes. Ingest's latency buckets hold 20 ms, its p95 target (README, Benchmarks), and
 * alert latency's a minute, the critical page's alarm (CRITICAL_ALERT_LATENCY_LIMIT_MS), so the share
 * of either over its line is exact.
 */
export const PRODUCT_METRICS: Readonly<Record<string, MetricDescription>> = {
  events_accepted_total: { kind: 'counter', help: 'Events ingest put on the stream.' },
  [INGEST_METRIC_NAMES.rejected]: { kind: 'counter', help: 'Events ingest refused, by rejection code.', labels: ['code'] },
  [INGEST_METRIC_NAMES.latency]: {
    kind: 'distribution',
    help: 'Time ingest took per request (consent, pseudonymisation, the stream put), in milliseconds.',
    buckets: [1, 2.5, 5, 10, 20, 50, 100, 250, 500, 1000, 2500, 5000],
  },
  ingest_throttled_total: { kind: 'counter', help: 'Requests ingest refused with 429 while a consumer was too far behind, by consumer.', labels: ['consumer'] },
  [HISTORY_SIGNALS_METRIC]: { kind: 'counter', help: 'Safety signals of events that arrived later than the live horizon: history, which pages no one.' },
  [ALERT_LATENCY_METRIC]: {
    kind: 'distribution',
    help: "From an alert's event at ingest to its notification sent, in milliseconds, by channel and severity.",
    labels: ['channel', 'severity'],
    buckets: [250, 500, 1000, 2500, 5000, 10_000, 30_000, CRITICAL_ALERT_LATENCY_LIMIT_MS, 120_000, 300_000],
  },
  [INTERVENTIONS_METRIC]: { kind: 'counter', help: 'Interventions recommended to the app, by delivery status.', labels: ['status'] },
  [ERASED_RECORDS_METRIC]: { kind: 'counter', help: 'Stream records of erased users skipped, by consumer.', labels: ['consumer'] },
  [REPORT_METRIC_NAMES.runs]: { kind: 'counter', help: 'Report runs, by kind and outcome.', labels: ['kind', 'outcome'] },
  [REPORT_METRIC_NAMES.duration]: { kind: 'distribution', help: 'Time a report run took, in milliseconds, by kind.', labels: ['kind'] },
  [USAGE_METRIC_NAMES.sessions]: { kind: 'counter', help: 'Sessions started, by session type (the platform the session ran on).', labels: ['session_type'] },
  [USAGE_METRIC_NAMES.interactions]: {
    kind: 'counter',
    help: 'Interaction events received, by event type and whether ingest took them (those taken counted once per eventId).',
    labels: ['interaction_type', 'success'],
  },
  [USAGE_METRIC_NAMES.sessionDuration]: { kind: 'distribution', help: 'Duration of the sessions ended, in seconds, by session type.', labels: ['session_type'], buckets: SESSION_DURATION_BUCKETS_SECONDS },
};

const metricName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (process_resident_memory_bytes, process_cpu_seconds_total,
 * nodejs_eventloop_lag_seconds, nodejs_heap_size_used_bytes...), under their usual names, without
 * a prefix: they describe a Node.js process like any other, under the names the community's
 * Node.js dashboards and alert rules query, and Prometheus's `job` and `instance` labels already
 * say which process it is. One registry per process, made once: the figures are the process's,
 * not a runtime's, and collecting them starts an event-loop monitor and a GC observer that are
 * never stopped, which would pile up in a process that starts runtime after runtime (the tests).
 * The heap figures are the main thread's; the aggregator thread's heap is capped on its own.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The local runtime's Metrics, answered at GET /metrics in the Prometheus text format by
 * prom-client: the process's default metrics, then this runtime's, from a registry of its own (a
 * second runtime in the process counts apart). A name outside PRODUCT_METRICS is made the first
 * time it is reported, with that report's dimensions as its labels.
 */
export class PrometheusMetrics implements Metrics {
  private readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly distributions = new Map<string, Histogram | Summary>();
  private readonly refused = new Set<string>();
  readonly contentType = this.registry.contentType;

  constructor(private readonly logger: Pick<Logger, 'warn'>) {
    for (const [name, description] of Object.entries(PRODUCT_METRICS)) {
      const labels = description.labels ?? [];
      if (description.kind === 'counter') this.makeCounter(name, description.help, labels);
      else this.makeDistribution(name, description.help, labels, description.buckets);
    }
  }

  count(name: string, value: number, dimensions: Readonly<Record<string, string>> = {}): void {
    this.guarded(name, () => (this.counters.get(metricName(name)) ?? this.makeCounter(name, name, Object.keys(dimensions))).inc(dimensions, value));
  }

  observe(name: string, value: number, dimensions: Readonly<Record<string, string>> = {}): void {
    this.guarded(name, () => (this.distributions.get(metricName(name)) ?? this.makeDistribution(name, name, Object.keys(dimensions))).observe(dimensions, value));
  }

  async render(): Promise<string> {
    return `${await processMetrics().metrics()}\n${await this.registry.metrics()}`;
  }

  private makeCounter(name: string, help: string, labels: readonly string[]): Counter {
    const counter = new Counter({ name: metricName(name), help, labelNames: [...labels], registers: [this.registry] });
    this.counters.set(metricName(name), counter);
    return counter;
  }

  private makeDistribution(name: string, help: string, labels: readonly string[], buckets?: readonly number[]): Histogram | Summary {
    const common = { name: metricName(name), help, labelNames: [...labels], registers: [this.registry] };
    // A summary without quantiles: per-minute percentiles come from the series watch's own recorder.
    const distribution = buckets ? new Histogram({ ...common, buckets: [...buckets] }) : new Summary({ ...common, percentiles: [] });
    this.distributions.set(metricName(name), distribution);
    return distribution;
  }

  /**
   * A count is never worth a failed request or a stopped consumer: a sample prom-client refuses
   * (a label the metric was not made with, a name taken by a metric of the other kind) is
   * dropped, and said once per metric.
   */
  private guarded(name: string, record: () => void): void {
    try {
      record();
    } catch (error) {
      if (this.refused.has(name)) return;
      this.refused.add(name);
      this.logger.warn('metric sample refused', { metric: name, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
