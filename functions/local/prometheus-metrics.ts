import type { Metrics } from '../ports';

const labelText = (dimensions: Readonly<Record<string, string>>): string => {
  const pairs = Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length === 0 ? '' : `{${pairs.map(([name, value]) => `${name}="${value.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`).join(',')}}`;
};

/** The local runtime's counters, answered at GET /metrics in the Prometheus text format. */
export class PrometheusCounters implements Metrics {
  private readonly series = new Map<string, Map<string, number>>();

  count(name: string, value: number, dimensions: Readonly<Record<string, string>> = {}): void {
    const metric = name.replace(/[^a-zA-Z0-9_]/g, '_');
    const labels = labelText(dimensions);
    const values = this.series.get(metric) ?? new Map<string, number>();
    values.set(labels, (values.get(labels) ?? 0) + value);
    this.series.set(metric, values);
  }

  render(): string {
    const lines: string[] = [];
    for (const [metric, values] of [...this.series].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# TYPE ${metric} counter`);
      for (const [labels, value] of values) lines.push(`${metric}${labels} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
