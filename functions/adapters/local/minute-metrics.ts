import type { MinuteValue, OperationalMinutes } from '../../domain/anomaly/watched-series';
import { QuantileSketch } from '../../domain/rollups/quantile-sketch';
import type { Clock, Metrics } from '../../ports';
import { INGEST_METRIC_NAMES, type OperationalSeries } from '../../ports/anomalies';

const MINUTE_MS = 60_000;
/** Minutes kept: the series watch catches up at most a day. */
const KEEP_MINUTES = 25 * 60;

/**
 * The embedded mode's CloudWatch: the local runtime's Metrics, passed on to its Prometheus
 * counters, with the ingest metrics the series watch reads also kept per minute (a minute's
 * rejections and a latency sketch for its p95), the way CloudWatch aggregates EMF lines. In the
 * runtime's memory: a restart starts the minutes afresh, as a fresh local deployment would.
 */
export class MinuteMetrics implements Metrics, OperationalSeries {
  private readonly minutes = new Map<number, { errors: number; latency: QuantileSketch }>();

  constructor(
    private readonly inner: Metrics,
    private readonly clock: Clock,
  ) {}

  count(name: string, value: number, dimensions?: Readonly<Record<string, string>>): void {
    this.inner.count(name, value, dimensions);
    if (name === INGEST_METRIC_NAMES.rejected) this.minute().errors += value;
  }

  observe(name: string, value: number, dimensions?: Readonly<Record<string, string>>): void {
    this.inner.observe(name, value, dimensions);
    if (name === INGEST_METRIC_NAMES.latency) this.minute().latency.add(value);
  }

  readMinutes(from: number, to: number): Promise<OperationalMinutes> {
    const ingestErrors: MinuteValue[] = [];
    const ingestLatencyP95Ms: MinuteValue[] = [];
    for (const [t, minute] of [...this.minutes].sort(([a], [b]) => a - b)) {
      if (t < from || t >= to) continue;
      if (minute.errors > 0) ingestErrors.push({ t, value: minute.errors });
      const p95 = minute.latency.quantile(0.95);
      if (p95 !== undefined) ingestLatencyP95Ms.push({ t, value: p95 });
    }
    return Promise.resolve({ ingestErrors, ingestLatencyP95Ms });
  }

  private minute(): { errors: number; latency: QuantileSketch } {
    const t = Math.floor(this.clock.now().getTime() / MINUTE_MS) * MINUTE_MS;
    let minute = this.minutes.get(t);
    if (!minute) {
      this.minutes.set(t, (minute = { errors: 0, latency: new QuantileSketch() }));
      for (const old of this.minutes.keys()) if (old < t - KEEP_MINUTES * MINUTE_MS) this.minutes.delete(old);
    }
    return minute;
  }
}
