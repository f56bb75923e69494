import { jsonLogger } from '../../../functions/adapters/log';
import { PRODUCT_METRICS, PrometheusMetrics } from '../../../functions/local/prometheus-metrics';
import { INGEST_METRIC_NAMES, REPORT_METRIC_NAMES } from '../../../functions/ports/anomalies';
import { USAGE_METRIC_NAMES } from '../../../functions/domain/operations/usage-metrics';

const metricsLogging = (lines: string[] = []) => new PrometheusMetrics(jsonLogger('test', 'warn', (line) => lines.push(line)));

describe('PrometheusMetrics', () => {
  it("lists every product metric from the start, with its HELP and TYPE, a counter without labels at 0", async () => {
    const text = await metricsLogging().render();

    for (const name of Object.keys(PRODUCT_METRICS)) expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.*\\n# TYPE ${name} (counter|histogram|summary)$`, 'm'));
    expect(text).toMatch(/^events_accepted_total 0$/m);
    // A labelled metric has no series until its first sample: no invented label values.
    expect(text).not.toMatch(/^tta_user_sessions_total\{/m);
  });

  it('writes counters with and without labels', async () => {
    const metrics = metricsLogging();
    metrics.count('events_accepted_total', 3);
    metrics.count('events_accepted_total', 4);
    metrics.count(INGEST_METRIC_NAMES.rejected, 2, { code: 'invalid_event' });

    const text = await metrics.render();

    expect(text).toContain('# HELP events_accepted_total Events ingest put on the stream.\n# TYPE events_accepted_total counter\nevents_accepted_total 7\n');
    expect(text).toMatch(/^events_rejected_total\{code="invalid_event"\} 2$/m);
  });

  it("makes tta_session_duration_seconds a histogram of the platform's buckets", async () => {
    const metrics = metricsLogging();
    for (const seconds of [30, 400, 3_000, 10_000]) metrics.observe(USAGE_METRIC_NAMES.sessionDuration, seconds, { session_type: 'ios' });

    const text = await metrics.render();

    const buckets = [...text.matchAll(/^tta_session_duration_seconds_bucket\{le="([^"]+)",session_type="ios"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(buckets).toEqual([['60', 1], ['300', 1], ['600', 2], ['1800', 2], ['3600', 3], ['7200', 3], ['+Inf', 4]]);
    expect(text).toMatch(/^tta_session_duration_seconds_sum\{session_type="ios"\} 13430$/m);
    expect(text).toMatch(/^tta_session_duration_seconds_count\{session_type="ios"\} 4$/m);
  });

  it('keeps a measurement without buckets as a summary of its sum and count', async () => {
    const metrics = metricsLogging();
    metrics.observe(REPORT_METRIC_NAMES.duration, 120, { kind: 'outcomes' });
    metrics.observe(REPORT_METRIC_NAMES.duration, 80, { kind: 'outcomes' });

    const text = await metrics.render();

    expect(text).toContain('# TYPE report_duration_ms summary\nreport_duration_ms_sum{kind="outcomes"} 200\nreport_duration_ms_count{kind="outcomes"} 2\n');
  });

  it('makes a metric it does not know on its first sample, with a name Prometheus takes, and escapes label values', async () => {
    const metrics = metricsLogging();
    metrics.count('odd.name-total', 1, { code: 'a"b\\c\nd' });

    expect(await metrics.render()).toContain('# TYPE odd_name_total counter\nodd_name_total{code="a\\"b\\\\c\\nd"} 1\n');
  });

  it('drops a sample with a label its metric was not made with, says so once, and goes on counting', async () => {
    const lines: string[] = [];
    const metrics = metricsLogging(lines);

    metrics.count(USAGE_METRIC_NAMES.sessions, 1, { session_type: 'ios', scenario: 'forest' });
    metrics.count(USAGE_METRIC_NAMES.sessions, 1, { session_type: 'ios', scenario: 'lake' });
    metrics.count(USAGE_METRIC_NAMES.sessions, 1, { session_type: 'ios' });

    expect(await metrics.render()).toMatch(/^tta_user_sessions_total\{session_type="ios"\} 1$/m);
    expect(lines.map((line) => JSON.parse(line) as { msg?: string; message?: string; metric: string })).toEqual([expect.objectContaining({ metric: USAGE_METRIC_NAMES.sessions })]);
  });

  it("counts apart from another runtime's metrics in the same process, and adds the process's default metrics unprefixed", async () => {
    const [first, second] = [metricsLogging(), metricsLogging()];
    first.count('events_accepted_total', 5);

    const [one, other] = [await first.render(), await second.render()];

    expect(one).toMatch(/^events_accepted_total 5$/m);
    expect(other).toMatch(/^events_accepted_total 0$/m);
    for (const text of [one, other]) {
      expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+$/m);
    }
    expect(first.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
