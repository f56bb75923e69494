import { INTERVAL_MS } from '../../domain/rollups/rollup';
import { EVENT_TYPES } from '../../domain/events/schema';
import type { MetricAnswer } from '../../domain/rollups/metric-query';
import type { ReportDocument, ReportSection } from '../../domain/reports/document';
import { metricTrendSection, type MetricSeriesAnswers } from '../../domain/reports/metric-trends';
import { alertsSection, anomaliesSection, deadLettersSection, ingestSection, type PeriodWindow } from '../../domain/reports/operations-sections';
import { previousPeriod } from '../../domain/reports/outcome-report';
import { figuresParametersSchema } from '../../domain/reports/request';
import { calendarBounds } from '../../domain/rollups/calendar';
import type { Clock, DeadLetterQueue } from '../../ports';
import type { AlertStore } from '../../ports/alerts';
import type { AnomalyStore, OperationalSeries } from '../../ports/anomalies';
import type { ReportSource } from '../../ports/reports';
import type { RollupReader } from '../../ports/rollups';
import { queryMetric } from '../query-metric';
import { newestEventsEnd, readRun } from './run-fields';

export interface OperationsReportDeps {
  readonly rollups: RollupReader;
  /** The ingest function's minutes: CloudWatch in AWS, the local runtime's counters locally. */
  readonly operational: OperationalSeries;
  readonly alerts: Pick<AlertStore, 'timings'>;
  readonly anomalies: Pick<AnomalyStore, 'list'>;
  readonly deadLetters: Pick<DeadLetterQueue, 'headings'>;
  readonly clock: Clock;
  readonly k: number;
  /** RETENTION_HOUR_ROLLUP_DAYS: local days are summed from hours, which are kept this long. */
  readonly hourRollupDays?: number;
  /** The most anomalies and dead letters read; past them the report says its counts are partial. */
  readonly limits?: { readonly anomalies: number; readonly deadLetters: number };
}

const DEFAULT_LIMITS = { anomalies: 10_000, deadLetters: 10_000 };
const MINUTE_MS = 60_000;
const STAGES = ['volumes', 'ingest', 'alerts', 'anomalies', 'dead letters'] as const;

/**
 * The operational report (kind `operations`): event volumes per day and type with their trends,
 * ingest errors and latency, alerts by rule and time to acknowledge, anomalies, and dead letters,
 * over the run's period in its reader's zone. No figure in it is about a person, and nothing of
 * whom an alert concerns is read. `dataThrough` is the newest instant any of its sources held
 * data for in the period.
 */
export function makeOperationsReport(deps: OperationsReportDeps): ReportSource {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  return async function operationsReport(run, onProgress) {
    const { period } = run;
    const { baseline } = readRun('operations', figuresParametersSchema, run.parameters, 'parameters');
    const window: PeriodWindow = { from: Date.parse(period.from), to: Date.parse(period.to), timeZone: period.timeZone };
    const now = deps.clock.now();
    let done = 0;
    const gathered = async <T>(stage: (typeof STAGES)[number], work: Promise<T>): Promise<T> => {
      const result = await work;
      done += 1;
      onProgress({ stage, done, total: STAGES.length });
      return result;
    };
    const [volumes, newestEvents, ingest, alerts, anomalies, deadLetters] = await Promise.all([
      gathered('volumes', volumesOf(deps, window, baseline)),
      newestEventsEnd(deps.rollups, window),
      gathered('ingest', deps.operational.readMinutes(window.from, window.to)),
      gathered('alerts', deps.alerts.timings(new Date(window.from), new Date(window.to))),
      gathered('anomalies', deps.anomalies.list({ from: new Date(window.from), to: new Date(window.to), limit: limits.anomalies, minUsers: deps.k })),
      gathered('dead letters', deps.deadLetters.headings(limits.deadLetters)),
    ]);
    const sections: ReportSection[] = [
      volumes,
      ingestSection(ingest, window),
      alertsSection(alerts, window),
      anomaliesSection(anomalies, { k: deps.k, complete: anomalies.length < limits.anomalies }),
      deadLettersSection(deadLetters, window, { now, complete: deadLetters.length < limits.deadLetters }),
    ];
    // Each source's newest instant in the period, as the end of the bucket it was counted in.
    const newest = [
      newestEvents,
      ...[...ingest.ingestErrors, ...ingest.ingestLatencyP95Ms].map((minute) => minute.t + MINUTE_MS),
      ...alerts.flatMap((alert) => [alert.startsAt, alert.acknowledgedAt, alert.resolvedAt, alert.escalatedAt]).flatMap((at) => (at ? [at.getTime()] : [])),
      ...anomalies.map((anomaly) => anomaly.t.getTime() + MINUTE_MS),
      ...deadLetters.map((letter) => letter.sentAt.getTime()).filter((at) => at >= window.from && at < window.to),
    ].reduce<number | undefined>((latest, at) => (at !== undefined && at > window.from && (latest === undefined || at > latest) ? at : latest), undefined);
    const dataThrough = newest === undefined ? null : new Date(Math.min(newest, window.to, now.getTime())).toISOString();
    return {
      kind: 'operations',
      title: `Operations, ${period.label}`,
      period,
      generatedAt: now.toISOString(),
      dataThrough,
      k: deps.k,
      sections,
    } satisfies ReportDocument;
  };
}

const ALL_EVENTS = 'All events';

/**
 * Events per local day, in all and per type, as GET /v1/metrics answers them (through the release
 * gate), for this period, the one before and the baseline. The types come from one answer
 * grouped by type where the gate withheld none of its cells; otherwise each type is asked for on
 * its own (a filter): the gate says only that something of an answer was withheld, so one small
 * type would make every type's quiet days unknown in the grouped one.
 */
async function volumesOf(deps: OperationsReportDeps, window: PeriodWindow, baseline: { from: string; to: string } | undefined): Promise<ReportSection> {
  const hoursKeptFrom = deps.hourRollupDays === undefined ? undefined : deps.clock.now().getTime() - deps.hourRollupDays * INTERVAL_MS.day;
  const ask = (range: { from: string; to: string }, slice: { groupBy?: string; filter?: string } = {}) =>
    queryMetric(deps.rollups, { metric: 'events', interval: 'day', timeZone: window.timeZone, ...range, ...slice }, { k: deps.k, hoursKeptFrom });
  const answersOf = async (range: { from: string; to: string }): Promise<Map<string, MetricAnswer>> => {
    const [all, grouped] = await Promise.all([ask(range), ask(range, { groupBy: 'type' })]);
    const types =
      grouped.suppressed.length === 0
        ? EVENT_TYPES.map((type) => groupOf(grouped, 'type', type))
        : await Promise.all(EVENT_TYPES.map((type) => ask(range, { filter: `type:${type}` })));
    return new Map([[ALL_EVENTS, all], ...EVENT_TYPES.map((type, i) => [type, types[i]!] as const)]);
  };
  const before = previousPeriod(window, window.timeZone);
  const iso = (at: number) => new Date(at).toISOString();
  const [current, previous, base] = await Promise.all([
    answersOf({ from: iso(window.from), to: iso(window.to) }),
    answersOf({ from: iso(before.from), to: iso(before.to) }),
    baseline && answersOf(baseline),
  ]);
  // Periods of unequal length compare by a day's mean: a baseline may be any length, and the month
  // before a month may be shorter.
  const days = (range: { from: number; to: number }) => calendarBounds(range.from, range.to, 'day', window.timeZone).length - 1;
  const aggregate = baseline || days(before) !== days(window) ? 'mean' : 'sum';
  const metrics = [ALL_EVENTS, ...EVENT_TYPES].map(
    (label): MetricSeriesAnswers => ({ label, unit: 'events', figure: 'count', aggregate, current: current.get(label)!, previous: previous.get(label)!, ...(base && { baseline: base.get(label)! }) }),
  );
  return metricTrendSection('volumes', 'Event volumes', metrics);
}

/** One group of an answer that withheld nothing, as the ungrouped answer of that group alone. */
function groupOf(answer: MetricAnswer, dimension: string, value: string): MetricAnswer {
  const points = answer.series.find((series) => series.group[dimension] === value)?.points ?? [];
  return { ...answer, groupBy: [], series: [{ group: {}, points }] };
}
