import type { OperationalMinutes } from '../anomaly/watched-series';
import { calendarBounds, isoInstantInZone } from '../rollups/calendar';
import type { ReportCell, ReportChart, ReportSection } from './document';

/*
 * The operational report's sections (issue 17) other than its volumes (metric-trends.ts): ingest
 * errors and latency per local day, alerts by rule and time to acknowledge, anomalies, and dead
 * letters. Each reads what the stores answered for the period and nothing of whom it concerns: an
 * alert is its rule, severity and times; a dead letter its consumer, reason and record count.
 */

/** [from, to) in epoch ms, and the reader's zone whose days the tables show. */
export interface PeriodWindow {
  readonly from: number;
  readonly to: number;
  readonly timeZone: string;
}

const MINUTE_MS = 60_000;
const NOT_ENOUGH: ReportCell = { withheld: 'not_enough_data' };

/**
 * The q-quantile of ascending values, interpolated between the two nearest ranks (Hyndman and
 * Fan's type 7, what numpy and R give by default).
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('the quantile of nothing is undefined');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const lower = sorted[below]!;
  const upper = sorted[Math.min(below + 1, sorted.length - 1)]!;
  return lower + (upper - lower) * (position - below);
}

/** The local days of the window: each day's start (epoch ms) and its date as the reader reads it. */
function localDays(window: PeriodWindow): { start: number; end: number; date: string }[] {
  const bounds = calendarBounds(window.from, window.to, 'day', window.timeZone).filter((at) => at >= window.from && at <= window.to);
  if (bounds[0] !== window.from) bounds.unshift(window.from);
  if (bounds.at(-1) !== window.to) bounds.push(window.to);
  return bounds.slice(0, -1).map((start, i) => ({ start, end: bounds[i + 1]!, date: isoInstantInZone(start, window.timeZone).slice(0, 10) }));
}

/** The items by a key of their parts, in the order first seen; the key is their parts as JSON. */
function groupBy<T>(items: readonly T[], parts: (item: T) => readonly string[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = JSON.stringify(parts(item));
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

const byKey = <T>([a]: readonly [string, T], [b]: readonly [string, T]) => a.localeCompare(b);

/** Index of the local day holding `at`, or -1 outside the window. */
function dayIndex(days: readonly { start: number; end: number }[], at: number): number {
  return days.findIndex((day) => at >= day.start && at < day.end);
}

/**
 * Ingest errors and latency per local day, from the ingest function's minutes (CloudWatch in AWS,
 * the local runtime's counters locally). A day's latency is told by the median and the highest of
 * its minutes' 95th percentiles: a day's own p95 cannot be made from its minutes' ones.
 */
export function ingestSection(minutes: OperationalMinutes, window: PeriodWindow): ReportSection {
  const days = localDays(window);
  const errors = days.map(() => 0);
  const latencies: number[][] = days.map(() => []);
  for (const point of minutes.ingestErrors) {
    const day = dayIndex(days, point.t);
    if (day >= 0) errors[day]! += point.value;
  }
  for (const point of minutes.ingestLatencyP95Ms) {
    const day = dayIndex(days, point.t);
    if (day >= 0) latencies[day]!.push(point.value);
  }
  const sortedLatencies = latencies.map((values) => [...values].sort((a, b) => a - b));
  const all = sortedLatencies.flat().sort((a, b) => a - b);
  const rows: ReportCell[][] = days.map((day, i) => {
    const values = sortedLatencies[i]!;
    return [day.date, errors[i]!, values.length, values.length > 0 ? quantile(values, 0.5) : null, values.length > 0 ? values.at(-1)! : null];
  });
  const totalErrors = errors.reduce((sum, value) => sum + value, 0);
  rows.push(['Whole period', totalErrors, all.length, all.length > 0 ? quantile(all, 0.5) : null, all.length > 0 ? all.at(-1)! : null]);
  const periodMinutes = Math.round((window.to - window.from) / MINUTE_MS);
  const charts: ReportChart[] = [
    {
      kind: 'chart',
      title: 'Events rejected at ingest per day',
      description: `Events rejected at ingest per day: ${totalErrors.toLocaleString('en-GB')} in the period, the most on one day ${Math.max(0, ...errors).toLocaleString('en-GB')}.`,
      type: 'bar',
      unit: 'events',
      series: [{ name: 'rejected', points: days.map((day, i) => ({ at: new Date(day.start).toISOString(), value: errors[i]! })) }],
    },
    {
      kind: 'chart',
      title: 'Ingest latency per day (median of the minutes\u2019 95th percentiles)',
      description: `The median of each day's minute 95th percentiles of ingest latency, in ms; ${sortedLatencies.filter((values) => values.length > 0).length} of ${days.length} days had requests, and a gap is a day without.`,
      type: 'line',
      unit: 'ms',
      series: [{ name: 'p95, median of minutes', points: days.map((day, i) => ({ at: new Date(day.start).toISOString(), value: rows[i]![3] as number | null })) }],
    },
  ];
  return {
    id: 'ingest',
    heading: 'Ingest errors and latency',
    blocks: [
      {
        kind: 'paragraph',
        text: `Events the ingest API rejected, and its request latency, per minute as the ingest function reported them. Requests were measured in ${all.length.toLocaleString('en-GB')} of the period's ${periodMinutes.toLocaleString('en-GB')} minutes; a minute the metrics no longer hold counts as one without requests.`,
      },
      {
        kind: 'table',
        caption: 'Ingest errors and latency per day',
        columns: [
          { label: 'Day', format: 'text' },
          { label: 'Rejected', format: 'integer', unit: 'events' },
          { label: 'Minutes with requests', format: 'integer', unit: 'minutes' },
          { label: 'Latency p95, median of minutes', format: 'decimal', unit: 'ms' },
          { label: 'Latency p95, highest minute', format: 'decimal', unit: 'ms' },
        ],
        rows,
      },
      ...charts,
    ],
  };
}

/** What the alert section needs of an alert: no subject, labels or summary. */
export interface AlertFacts {
  readonly rule: string;
  readonly severity: string;
  readonly status: 'firing' | 'acknowledged' | 'resolved';
  readonly startsAt: Date;
  readonly acknowledgedAt?: Date;
  readonly resolvedAt?: Date;
  readonly escalatedAt?: Date;
}

/** Below this many acknowledgements a 90th percentile is only the slowest one or two: not shown. */
export const MIN_P90_VALUES = 10;

interface AlertTally {
  readonly rule: string;
  readonly severity: string | null;
  alerts: number;
  readonly minutesToAcknowledge: number[];
  firing: number;
  resolvedUnacknowledged: number;
  escalated: number;
  oldestFiring: Date | undefined;
}

function tallyAlerts(rule: string, severity: string | null, alerts: readonly AlertFacts[]): AlertTally {
  const tally: AlertTally = { rule, severity, alerts: 0, minutesToAcknowledge: [], firing: 0, resolvedUnacknowledged: 0, escalated: 0, oldestFiring: undefined };
  for (const alert of alerts) {
    tally.alerts += 1;
    if (alert.acknowledgedAt) tally.minutesToAcknowledge.push((alert.acknowledgedAt.getTime() - alert.startsAt.getTime()) / MINUTE_MS);
    else if (alert.status === 'firing') {
      tally.firing += 1;
      if (!tally.oldestFiring || alert.startsAt < tally.oldestFiring) tally.oldestFiring = alert.startsAt;
    } else if (alert.status === 'resolved') tally.resolvedUnacknowledged += 1;
    if (alert.escalatedAt) tally.escalated += 1;
  }
  tally.minutesToAcknowledge.sort((a, b) => a - b);
  return tally;
}

function countRow(tally: AlertTally): ReportCell[] {
  return [tally.rule, tally.severity, tally.alerts, tally.minutesToAcknowledge.length, tally.firing, tally.oldestFiring?.toISOString() ?? null, tally.resolvedUnacknowledged, tally.escalated];
}

function acknowledgeRow(tally: AlertTally): ReportCell[] {
  const acks = tally.minutesToAcknowledge;
  return [tally.rule, tally.severity, acks.length, acks.length > 0 ? quantile(acks, 0.5) : null, acks.length >= MIN_P90_VALUES ? quantile(acks, 0.9) : acks.length > 0 ? NOT_ENOUGH : null];
}

/**
 * Alerts that started in the period, by rule and severity (most alerts first) and in all: how many
 * were acknowledged and how fast (from start to acknowledgement, in minutes), how many are still
 * firing unacknowledged (as the store held them when the report was made) and since when, how many
 * resolved before anyone acknowledged them, and how many were escalated.
 */
export function alertsSection(alerts: readonly AlertFacts[], window: PeriodWindow): ReportSection {
  const tallies = [...groupBy(alerts, (alert) => [alert.rule, alert.severity])]
    .sort(byKey)
    .map(([, group]) => tallyAlerts(group[0]!.rule, group[0]!.severity, group))
    .sort((a, b) => b.alerts - a.alerts);
  const total = tallyAlerts('All rules', null, alerts);
  const days = localDays(window);
  const severities = [...new Set(alerts.map((alert) => alert.severity))].sort();
  const perDay = severities.map((severity) => {
    const counts = days.map(() => 0);
    for (const alert of alerts) {
      const day = dayIndex(days, alert.startsAt.getTime());
      if (alert.severity === severity && day >= 0) counts[day]! += 1;
    }
    return { name: severity, points: days.map((day, i) => ({ at: new Date(day.start).toISOString(), value: counts[i]! })) };
  });
  return {
    id: 'alerts',
    heading: 'Alerts',
    blocks: [
      {
        kind: 'paragraph',
        text: `${alerts.length.toLocaleString('en-GB')} alerts started in the period. Time to acknowledge runs from an alert's start to its acknowledgement; its 90th percentile is shown from ${MIN_P90_VALUES} acknowledgements on. "Still firing" counts alerts nobody had acknowledged or resolved when the report was made, and "Firing since" gives the oldest one's start. Whom an alert concerns is never part of this report.`,
      },
      {
        kind: 'table',
        caption: 'Alerts by rule and severity',
        columns: [
          { label: 'Rule', format: 'text' },
          { label: 'Severity', format: 'text' },
          { label: 'Alerts', format: 'integer' },
          { label: 'Acknowledged', format: 'integer' },
          { label: 'Still firing', format: 'integer' },
          { label: 'Firing since', format: 'datetime' },
          { label: 'Resolved unacknowledged', format: 'integer' },
          { label: 'Escalated', format: 'integer' },
        ],
        rows: [...tallies.map(countRow), countRow(total)],
      },
      {
        kind: 'table',
        caption: 'Time to acknowledge by rule and severity',
        columns: [
          { label: 'Rule', format: 'text' },
          { label: 'Severity', format: 'text' },
          { label: 'Acknowledged', format: 'integer' },
          { label: 'Median', format: 'decimal', unit: 'minutes' },
          { label: '90th percentile', format: 'decimal', unit: 'minutes' },
        ],
        rows: [...tallies.map(acknowledgeRow), acknowledgeRow(total)],
      },
      ...(alerts.length > 0
        ? [
            {
              kind: 'chart' as const,
              title: 'Alerts started per day, by severity',
              description: `Alerts started per day by severity (${severities.join(', ')}): ${alerts.length.toLocaleString('en-GB')} in ${days.length} days.`,
              type: 'bar' as const,
              unit: 'alerts',
              series: perDay,
            },
          ]
        : []),
    ],
  };
}

/** A series key as words that wrap in a table: `events.per_minute (type engagement.heartbeat)`. */
function seriesName(key: string): string {
  const match = /^([^{]+)\{(.*)\}$/.exec(key);
  return match ? `${match[1]} (${match[2]!.replace(/=/g, ' ').replace(/,/g, ', ')})` : key;
}

/** What the anomaly section needs of an anomaly. */
export interface AnomalyFacts {
  readonly series: string;
  readonly direction: string;
  readonly t: Date;
  readonly score: number;
}

/**
 * The anomalies the series watch recorded in the period, per series and direction: how many, the
 * first and last, and the strongest score. `complete` is false when the store answered only the
 * newest of them (its limit), which the section then says.
 */
export function anomaliesSection(anomalies: readonly AnomalyFacts[], options: { readonly k: number; readonly complete: boolean }): ReportSection {
  const rows = [...groupBy(anomalies, (anomaly) => [anomaly.series, anomaly.direction])]
    .sort(byKey)
    .sort(([, a], [, b]) => b.length - a.length)
    .map(([, group]): ReportCell[] => {
      const times = group.map((anomaly) => anomaly.t.getTime());
      return [seriesName(group[0]!.series), group[0]!.direction, group.length, new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times)).toISOString(), Math.max(...group.map((anomaly) => anomaly.score))];
    });
  return {
    id: 'anomalies',
    heading: 'Anomalies',
    blocks: [
      {
        kind: 'paragraph',
        text: `${options.complete ? '' : 'Only the newest '}${anomalies.length.toLocaleString('en-GB')} anomalous minutes the detectors flagged in the period, by series and direction. As on GET /v1/anomalies, a minute of an event series with fewer than ${options.k} distinct users is left out.`,
      },
      {
        kind: 'table',
        caption: 'Anomalies by series and direction',
        columns: [
          { label: 'Series', format: 'text' },
          { label: 'Direction', format: 'text' },
          { label: 'Anomalous minutes', format: 'integer' },
          { label: 'First', format: 'datetime' },
          { label: 'Last', format: 'datetime' },
          { label: 'Highest score', format: 'decimal' },
        ],
        rows,
      },
    ],
  };
}

/** A dead letter as the section reads it: never its records. */
export interface DeadLetterFacts {
  readonly consumer: string;
  readonly reason: string;
  readonly records: number;
  readonly sentAt: Date;
}

const recordsIn = (letters: readonly DeadLetterFacts[]) => letters.reduce((sum, letter) => sum + letter.records, 0);

/**
 * A reason's kind, the part before its first colon ("FunctionError: ..." is "FunctionError"): the
 * rest is an error's own message, which may quote the data that failed.
 */
export function reasonKind(reason: string): string {
  return reason.split(':')[0]!.trim().slice(0, 64) || 'unknown';
}

/**
 * Dead letters: those that reached the queue in the period by consumer and kind of reason, and
 * every letter still waiting when the report was made, with the oldest. `complete` is false when
 * the queue answered only the oldest of them (its limit).
 */
export function deadLettersSection(letters: readonly DeadLetterFacts[], window: PeriodWindow, options: { readonly now: Date; readonly complete: boolean }): ReportSection {
  const inPeriod = letters.filter((letter) => letter.sentAt.getTime() >= window.from && letter.sentAt.getTime() < window.to);
  const rows = [...groupBy(inPeriod, (letter) => [letter.consumer, reasonKind(letter.reason)])].sort(byKey).map(([, group]): ReportCell[] => {
    const times = group.map((letter) => letter.sentAt.getTime());
    return [group[0]!.consumer, reasonKind(group[0]!.reason), group.length, recordsIn(group), new Date(Math.min(...times)).toISOString(), new Date(Math.max(...times)).toISOString()];
  });
  const waitingRow = (name: string, group: readonly DeadLetterFacts[]): ReportCell[] => {
    const oldest = group.reduce((first, letter) => Math.min(first, letter.sentAt.getTime()), Infinity);
    return [name, group.length, recordsIn(group), group.length > 0 ? new Date(oldest).toISOString() : null, group.length > 0 ? (options.now.getTime() - oldest) / 3_600_000 : null];
  };
  const waitingRows = [
    ...[...groupBy(letters, (letter) => [letter.consumer])].sort(byKey).map(([, group]) => waitingRow(group[0]!.consumer, group)),
    waitingRow('All consumers', letters),
  ];
  return {
    id: 'dead-letters',
    heading: 'Dead letters',
    blocks: [
      {
        kind: 'paragraph',
        text: `Stream batches a consumer gave up on, set aside for replay. A reason shows only its kind (the part before a colon): the rest is an error's message, which may quote the data. ${
          options.complete ? '' : 'The queue answered only its oldest letters: the counts are at least these. '
        }A letter replayed and removed before the report was made is not counted.`,
      },
      {
        kind: 'table',
        caption: 'Dead letters that reached the queue in the period, by consumer and reason',
        columns: [
          { label: 'Consumer', format: 'text' },
          { label: 'Reason', format: 'text' },
          { label: 'Letters', format: 'integer' },
          { label: 'Records', format: 'integer' },
          { label: 'First', format: 'datetime' },
          { label: 'Last', format: 'datetime' },
        ],
        rows,
      },
      {
        kind: 'table',
        caption: 'Dead letters waiting when the report was made',
        columns: [
          { label: 'Consumer', format: 'text' },
          { label: 'Letters', format: 'integer' },
          { label: 'Records', format: 'integer' },
          { label: 'Oldest since', format: 'datetime' },
          { label: 'Oldest has waited', format: 'decimal', unit: 'hours' },
        ],
        rows: waitingRows,
      },
    ],
  };
}
