import type { Metrics } from '../ports';

const labelText = (dimensions: Readonly<Record<string, string>>): string => {
  const pairs = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length === 0 ? '' : `{${pairs.map(([name, value]) => `${name}="${value.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`).join(',')}}`;
};

const metricName = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * The local runtime's counters, answered at GET /metrics in the Prometheus text format. A
 * measurement is a summary without quantiles (its `_sum` and `_count`): a scraper's rate of the
 * two gives the mean; per-minute percentiles come from the series watch's own recorder.
 */
export class PrometheusCounters implements Metrics {
  private readonly series = new Map<string, Map<string, number>>();
  private readonly summaries = new Map<string, Map<string, { sum: number; count: number }>>();

  count(name: string, value: number, dimensions: Readonly<Record<string, string>> = {}): void {
    const metric = metricName(name);
    const labels = labelText(dimensions);
    const values = this.series.get(metric) ?? new Map<string, number>();
    values.set(labels, (values.get(labels) ?? 0) + value);
    this.series.set(metric, values);
  }

  observe(name: string, value: number, dimensions: Readonly<Record<string, string>> = {}): void {
    const metric = metricName(name);
    const labels = labelText(dimensions);
    const values = this.summaries.get(metric) ?? new Map<string, { sum: number; count: number }>();
    const seen = values.get(labels) ?? { sum: 0, count: 0 };
    values.set(labels, { sum: seen.sum + value, count: seen.count + 1 });
    this.summaries.set(metric, values);
  }

  render(): string {
    const lines: string[] = [];
    for (const [metric, values] of [...this.series].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# TYPE ${metric} counter`);
      for (const [labels, value] of values) lines.push(`${metric}${labels} ${value}`);
    }
    for (const [metric, values] of [...this.summaries].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# TYPE ${metric} summary`);
      for (const [labels, { sum, count }] of values) lines.push(`${metric}_sum${labels} ${sum}`, `${metric}_count${labels} ${count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
