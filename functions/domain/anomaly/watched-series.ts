import { EVENT_TYPES } from '../events/schema';
import type { SeriesRow } from '../rollups/metric-query';
import type { Observation, SeriesPoint, Verdict } from './detector';
import { robustZScore, type RobustZScoreState } from './robust-z-score';
import { seasonal, type SeasonalState } from './seasonal';

/**
 * The metric series the series watch judges, one point a minute, and how each minute's value
 * is made from the minute rollups (event-derived series) or from the ingest function's
 * operational metrics (which never reach PostgreSQL: the ingest function runs outside the VPC).
 *
 * Which detectors watch which series follows the detectors' own notes. Event counts have a
 * daily cycle, so the seasonal detector (daily season of 1440 minutes) watches them; it needs
 * two days of warm-up, during which the robust z-score (whose 120-minute window follows a slow
 * daily swing) is the only judge, and after it the robust z-score still catches a sudden burst
 * first. Rates, means, errors and latency have no strong cycle: the robust z-score alone.
 * A weekly season is within the seasonal detector's limits (up to 20,160 positions), but at one
 * point a minute its state would hold two weeks of points (~0.6 MB of JSON read and written per
 * series every minute) and it would judge nothing for two weeks, so it is not configured here.
 */

export const DETECTORS = ['robust_z', 'seasonal'] as const;
export type DetectorName = (typeof DETECTORS)[number];
export type DetectorState = RobustZScoreState | SeasonalState;

export const MINUTE_MS = 60_000;

/**
 * `counter`: a minute without events is a 0 (a dip to nothing must be seen); `gauge`: a minute
 * without data has no point (a rate of no sessions is not 0).
 */
export type SeriesKind = 'counter' | 'gauge';

export interface WatchedSeries {
  /** `name{label=value,...}`: the series' identity in states, anomalies and signal subjects. */
  readonly key: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly kind: SeriesKind;
  /** `rollups`: carries the distinct users of each minute, which the k-anonymity gate needs. */
  readonly source: 'rollups' | 'operational';
  readonly detectors: readonly DetectorName[];
  /** The smallest change that can count, in the series' units: one event, two points of a rate. */
  readonly minScale: number;
}

export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length === 0 ? name : `${name}{${pairs.map(([label, value]) => `${label}=${value}`).join(',')}}`;
}

function watched(name: string, labels: Record<string, string>, spec: Omit<WatchedSeries, 'key' | 'name' | 'labels'>): WatchedSeries {
  return { key: seriesKey(name, labels), name, labels, ...spec };
}

export const WATCHED_SERIES: readonly WatchedSeries[] = [
  ...EVENT_TYPES.map((type) =>
    watched('events.per_minute', { type }, { kind: 'counter', source: 'rollups', detectors: ['robust_z', 'seasonal'], minScale: 1 }),
  ),
  watched('sessions.completion_rate', {}, { kind: 'gauge', source: 'rollups', detectors: ['robust_z'], minScale: 0.02 }),
  watched('mood.valence_mean', {}, { kind: 'gauge', source: 'rollups', detectors: ['robust_z'], minScale: 0.02 }),
  watched('ingest.errors_per_minute', {}, { kind: 'counter', source: 'operational', detectors: ['robust_z'], minScale: 1 }),
  watched('ingest.latency_p95_ms', {}, { kind: 'gauge', source: 'operational', detectors: ['robust_z'], minScale: 1 }),
];

/** The rollups the event-derived series are made of, each read at minute interval in [from, to). */
export const ROLLUP_READS = {
  eventsByType: { metric: 'events', grouping: 'type', values: false },
  sessionsCompleted: { metric: 'sessions.completed', grouping: '', values: false },
  mood: { metric: 'mood.valence', grouping: '', values: true },
} as const;

export type RollupMinutes = { readonly [read in keyof typeof ROLLUP_READS]: readonly SeriesRow[] };

export interface MinuteValue {
  /** Minute start, epoch ms. */
  readonly t: number;
  readonly value: number;
}

/** What the ingest function reports per minute (see `OperationalSeries`). */
export interface OperationalMinutes {
  /** Events rejected at ingest; a minute not listed had none. */
  readonly ingestErrors: readonly MinuteValue[];
  /** The 95th percentile of ingest request latency (ms); a minute not listed had no request. */
  readonly ingestLatencyP95Ms: readonly MinuteValue[];
}

/**
 * Minutes of two reads of the same source, the newer's value where both hold a minute: the kept
 * history under the live source's recent minutes (`OperationalMinuteHistory`).
 */
export function overlayMinutes(older: OperationalMinutes, newer: OperationalMinutes): OperationalMinutes {
  const overlay = (a: readonly MinuteValue[], b: readonly MinuteValue[]) =>
    [...new Map([...a, ...b].map((point) => [point.t, point])).values()].sort((x, y) => x.t - y.t);
  return { ingestErrors: overlay(older.ingestErrors, newer.ingestErrors), ingestLatencyP95Ms: overlay(older.ingestLatencyP95Ms, newer.ingestLatencyP95Ms) };
}

export interface WatchedPoint extends SeriesPoint {
  /** Distinct users behind the minute's value (event-derived series only). */
  readonly users?: number;
}

/**
 * Each watched series' points for the minutes `minutes` (ascending minute starts), in time
 * order: every minute of a counter, the minutes with data of a gauge.
 */
export function seriesPoints(minutes: readonly number[], rollups: RollupMinutes, operational: OperationalMinutes): Map<string, WatchedPoint[]> {
  const eventsByType = new Map<string, Map<number, SeriesRow>>();
  for (const row of rollups.eventsByType) {
    const [type] = JSON.parse(row.groupKey) as string[];
    const byMinute = eventsByType.get(type!) ?? new Map<number, SeriesRow>();
    byMinute.set(row.bucket, row);
    eventsByType.set(type!, byMinute);
  }
  const completed = totalByMinute(rollups.sessionsCompleted);
  const mood = totalByMinute(rollups.mood);
  const ended = eventsByType.get('session.ended') ?? new Map<number, SeriesRow>();
  const errors = new Map(operational.ingestErrors.map((point) => [point.t, point.value]));
  const latency = new Map(operational.ingestLatencyP95Ms.map((point) => [point.t, point.value]));

  const valueAt = (series: WatchedSeries, t: number): WatchedPoint | undefined => {
    switch (series.name) {
      case 'events.per_minute': {
        const row = eventsByType.get(series.labels.type!)?.get(t);
        return { t, value: row?.count ?? 0, users: row?.users ?? 0 };
      }
      case 'sessions.completion_rate': {
        const endedRow = ended.get(t);
        if (!endedRow || endedRow.count === 0) return undefined;
        return { t, value: (completed.get(t)?.count ?? 0) / endedRow.count, users: endedRow.users };
      }
      case 'mood.valence_mean': {
        const row = mood.get(t);
        if (!row || row.count === 0 || row.sum === undefined) return undefined;
        return { t, value: row.sum / row.count, users: row.users };
      }
      case 'ingest.errors_per_minute':
        return { t, value: errors.get(t) ?? 0 };
      case 'ingest.latency_p95_ms': {
        const value = latency.get(t);
        return value === undefined ? undefined : { t, value };
      }
      default:
        throw new Error(`no source for the watched series ${series.key}`);
    }
  };

  const points = new Map<string, WatchedPoint[]>();
  for (const series of WATCHED_SERIES) {
    points.set(
      series.key,
      minutes.flatMap((t) => valueAt(series, t) ?? []),
    );
  }
  return points;
}

/** Rows of a total (grouping ''): one per minute. */
function totalByMinute(rows: readonly SeriesRow[]): Map<number, SeriesRow> {
  return new Map(rows.map((row) => [row.bucket, row]));
}

/** A detector's first state for a series, its floors set to the series' units. */
export function initialDetectorState(series: WatchedSeries, detector: DetectorName): DetectorState {
  if (detector === 'robust_z') return robustZScore.initialState(robustZScore.parseConfig({ minScale: series.minScale }));
  return seasonal.initialState(seasonal.parseConfig({ intervalMs: MINUTE_MS, seasonLength: 1440, minScale: series.minScale }));
}

/** Observes a point with whichever detector the (stored) state belongs to. */
export function observe(state: DetectorState, point: SeriesPoint): Observation<DetectorState> {
  return state.kind === 'robust-z-score' ? robustZScore.observe(state, point) : seasonal.observe(state, point);
}

/** The verdict a signal carries when more than one detector flagged its point: the strongest. */
export function strongestAnomaly<T extends Verdict>(verdicts: readonly T[]): T | undefined {
  return verdicts.filter((verdict) => verdict.anomalous).reduce<T | undefined>((best, verdict) => (best && best.score >= verdict.score ? best : verdict), undefined);
}
