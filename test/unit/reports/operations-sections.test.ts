import type { ReportChart, ReportSection, ReportTable } from '../../../functions/domain/reports/document';
import {
  alertsSection,
  anomaliesSection,
  deadLettersSection,
  ingestSection,
  MIN_P90_VALUES,
  quantile,
  reasonKind,
  type AlertFacts,
  type PeriodWindow,
} from '../../../functions/domain/reports/operations-sections';

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);
// The week of 22 March 2027 in London: summer time starts on the Sunday, a 23-hour day.
const WEEK: PeriodWindow = { from: at('2027-03-22T00:00:00Z'), to: at('2027-03-28T23:00:00Z'), timeZone: 'Europe/London' };

const tables = (section: ReportSection) => section.blocks.filter((block): block is ReportTable => block.kind === 'table');
const charts = (section: ReportSection) => section.blocks.filter((block): block is ReportChart => block.kind === 'chart');

describe('quantile', () => {
  it('interpolates between the nearest ranks, as numpy does by default', () => {
    expect(quantile([10, 20, 60], 0.5)).toBe(20);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    // numpy.quantile(range(1, 11), 0.9) = 9.1
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 12);
    expect(quantile([7], 0.9)).toBe(7);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });
});

describe('the ingest section', () => {
  it('sums rejections and tells latency per local day, and in all, from the minutes', () => {
    const section = ingestSection(
      {
        ingestErrors: [
          { t: at('2027-03-21T23:59:00Z'), value: 50 },
          { t: at('2027-03-23T10:00:00Z'), value: 4 },
          { t: at('2027-03-23T10:01:00Z'), value: 2 },
          // 23:30 UTC on the Sunday is already Monday in London's summer time: outside the week.
          { t: at('2027-03-28T23:30:00Z'), value: 9 },
        ],
        ingestLatencyP95Ms: [
          { t: at('2027-03-22T10:00:00Z'), value: 300 },
          { t: at('2027-03-22T10:01:00Z'), value: 100 },
          { t: at('2027-03-22T10:02:00Z'), value: 200 },
          { t: at('2027-03-28T22:30:00Z'), value: 80 },
        ],
      },
      WEEK,
    );
    const [table] = tables(section);
    expect(table!.rows.map((row) => row[0])).toEqual(['2027-03-22', '2027-03-23', '2027-03-24', '2027-03-25', '2027-03-26', '2027-03-27', '2027-03-28', 'Whole period']);
    expect(table!.rows[0]).toEqual(['2027-03-22', 0, 3, 200, 300]);
    expect(table!.rows[1]).toEqual(['2027-03-23', 6, 0, null, null]);
    expect(table!.rows[6]).toEqual(['2027-03-28', 0, 1, 80, 80]);
    expect(table!.rows[7]).toEqual(['Whole period', 6, 4, 150, 300]);
    // A day without requests is a gap in the latency chart, never 0 ms.
    const [errors, latency] = charts(section);
    expect(errors!.series[0]!.points.map((point) => point.value)).toEqual([0, 6, 0, 0, 0, 0, 0]);
    expect(latency!.series[0]!.points.map((point) => point.value)).toEqual([200, null, null, null, null, null, 80]);
    expect(latency!.series[0]!.points[6]!.at).toBe('2027-03-28T00:00:00.000Z');
    expect((section.blocks[0] as { text: string }).text).toContain('in 4 of the period\'s 10,020 minutes');
  });
});

describe('the alerts section', () => {
  const start = at('2027-03-22T08:00:00Z');
  const alert = (rule: string, severity: string, startMin: number, over: Partial<AlertFacts> = {}): AlertFacts => ({ rule, severity, status: 'acknowledged', startsAt: new Date(start + startMin * MINUTE), ...over });
  const acked = (rule: string, startMin: number, afterMin: number) => alert(rule, 'critical', startMin, { acknowledgedAt: new Date(start + (startMin + afterMin) * MINUTE) });

  it('counts by rule and severity, most alerts first, with time to acknowledge and what is still firing', () => {
    const alerts: AlertFacts[] = [
      // Ten acknowledgements after 1..10 minutes: a median of 5.5, a 90th percentile of 9.1.
      ...Array.from({ length: MIN_P90_VALUES }, (_, i) => acked('crisis-signal', i * 60, i + 1)),
      alert('quiet-user', 'warning', 30, { status: 'firing' }),
      alert('quiet-user', 'warning', 10, { status: 'firing', escalatedAt: new Date(start + 40 * MINUTE) }),
      alert('quiet-user', 'warning', 50, { status: 'resolved', resolvedAt: new Date(start + 80 * MINUTE) }),
      // Acknowledged, then resolved: counted as acknowledged.
      alert('quiet-user', 'warning', 70, { status: 'resolved', acknowledgedAt: new Date(start + 72 * MINUTE), resolvedAt: new Date(start + 90 * MINUTE) }),
    ];
    const section = alertsSection(alerts, WEEK);
    const [counts, acknowledged] = tables(section);

    expect(counts!.rows).toEqual([
      ['crisis-signal', 'critical', 10, 10, 0, null, 0, 0],
      ['quiet-user', 'warning', 4, 1, 2, new Date(start + 10 * MINUTE).toISOString(), 1, 1],
      ['All rules', null, 14, 11, 2, new Date(start + 10 * MINUTE).toISOString(), 1, 1],
    ]);
    expect(acknowledged!.rows[0]).toEqual(['crisis-signal', 'critical', 10, 5.5, expect.closeTo(9.1, 12)]);
    // One acknowledgement: its median, and too few for a 90th percentile.
    expect(acknowledged!.rows[1]).toEqual(['quiet-user', 'warning', 1, 2, { withheld: 'not_enough_data' }]);
    expect(acknowledged!.rows[2]).toEqual(['All rules', null, 11, 5, 9]);
    expect(charts(section)[0]!.series.map((series) => [series.name, series.points[0]!.value])).toEqual([
      ['critical', 10],
      ['warning', 4],
    ]);
  });

  it('shows an empty period as no alerts, with no chart', () => {
    const section = alertsSection([], WEEK);
    expect(tables(section)[0]!.rows).toEqual([['All rules', null, 0, 0, 0, null, 0, 0]]);
    expect(tables(section)[1]!.rows).toEqual([['All rules', null, 0, null, null]]);
    expect(charts(section)).toEqual([]);
  });
});

describe('the anomalies section', () => {
  it('counts anomalous minutes per series and direction, most first, with the first, last and strongest', () => {
    const t = (minute: number) => new Date(WEEK.from + minute * MINUTE);
    const section = anomaliesSection(
      [
        { series: 'ingest.latency_p95_ms', direction: 'spike', t: t(5), score: 7 },
        { series: 'events.per_minute{type=crisis.signal}', direction: 'spike', t: t(9), score: 4 },
        { series: 'events.per_minute{type=crisis.signal}', direction: 'spike', t: t(1), score: 12 },
        { series: 'events.per_minute{type=crisis.signal}', direction: 'dip', t: t(3), score: 5 },
      ],
      { k: 10, complete: false },
    );
    expect(tables(section)[0]!.rows).toEqual([
      ['events.per_minute (type crisis.signal)', 'spike', 2, t(1).toISOString(), t(9).toISOString(), 12],
      ['events.per_minute (type crisis.signal)', 'dip', 1, t(3).toISOString(), t(3).toISOString(), 5],
      ['ingest.latency_p95_ms', 'spike', 1, t(5).toISOString(), t(5).toISOString(), 7],
    ]);
    const text = (section.blocks[0] as { text: string }).text;
    expect(text).toMatch(/^Only the newest 4 anomalous minutes/);
    expect(text).toContain('fewer than 10 distinct users is left out');
  });
});

describe('the dead letters section', () => {
  it('shows only the kind of a reason: the rest may quote the data that failed', () => {
    expect(reasonKind('FunctionError: could not parse {"email":"jane@example.org"}')).toBe('FunctionError');
    expect(reasonKind('BatchItemFailure')).toBe('BatchItemFailure');
    expect(reasonKind(': nothing before the colon')).toBe('unknown');
  });

  it("counts the period's letters by consumer and reason, and every waiting letter with the oldest's wait", () => {
    const now = new Date('2027-03-29T08:00:00Z');
    const letters = [
      { consumer: 'detect', reason: 'BatchItemFailure', records: 3, sentAt: new Date('2027-03-10T00:00:00Z') },
      { consumer: 'aggregate', reason: 'FunctionError: jane@example.org', records: 2, sentAt: new Date('2027-03-23T11:00:00Z') },
      { consumer: 'aggregate', reason: 'FunctionError: timeout', records: 4, sentAt: new Date('2027-03-25T11:00:00Z') },
      { consumer: 'aggregate', reason: 'BatchItemFailure', records: 1, sentAt: new Date('2027-03-24T12:00:00Z') },
    ];
    const section = deadLettersSection(letters, WEEK, { now, complete: true });
    const [inPeriod, waiting] = tables(section);
    expect(inPeriod!.rows).toEqual([
      ['aggregate', 'BatchItemFailure', 1, 1, '2027-03-24T12:00:00.000Z', '2027-03-24T12:00:00.000Z'],
      ['aggregate', 'FunctionError', 2, 6, '2027-03-23T11:00:00.000Z', '2027-03-25T11:00:00.000Z'],
    ]);
    expect(waiting!.rows).toEqual([
      ['aggregate', 3, 7, '2027-03-23T11:00:00.000Z', 141],
      ['detect', 1, 3, '2027-03-10T00:00:00.000Z', 464],
      ['All consumers', 4, 10, '2027-03-10T00:00:00.000Z', 464],
    ]);
    expect(JSON.stringify(section)).not.toContain('jane@example.org');
  });

  it('shows an empty queue as no letters, and says when the queue answered only its oldest', () => {
    const section = deadLettersSection([], WEEK, { now: new Date(WEEK.to), complete: false });
    expect(tables(section)[0]!.rows).toEqual([]);
    expect(tables(section)[1]!.rows).toEqual([['All consumers', 0, 0, null, null]]);
    expect((section.blocks[0] as { text: string }).text).toContain('the counts are at least these');
  });
});
