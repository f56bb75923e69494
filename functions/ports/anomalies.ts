import type { Direction } from '../domain/anomaly/detector';
import type { DetectorName, DetectorState, OperationalMinutes } from '../domain/anomaly/watched-series';

/** A detector's state for one series, and the last minute (start, epoch ms) it has taken in. */
export interface StoredDetectorState {
  readonly series: string;
  readonly detector: DetectorName;
  readonly state: DetectorState;
  readonly lastMinute: number;
}

export interface DetectorStateUpdate extends StoredDetectorState {
  /** The `lastMinute` the state was loaded with; null when there was none. */
  readonly previousMinute: number | null;
}

/**
 * The detectors' states between invocations (PostgreSQL). A save is conditional on the minute
 * each state was loaded with, so two invocations that took in the same minutes cannot both
 * advance a state: the first to save wins, the other's save changes nothing.
 */
export interface DetectorStateStore {
  loadAll(): Promise<StoredDetectorState[]>;
  /** All or nothing: true when every update's state still had its `previousMinute` (or was absent for null) and is now saved. */
  save(updates: readonly DetectorStateUpdate[]): Promise<boolean>;
}

/** A point a detector flagged. */
export interface Anomaly {
  readonly series: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly detector: DetectorName;
  /** The minute's start. */
  readonly t: Date;
  readonly value: number;
  readonly expected: number;
  readonly score: number;
  readonly direction: Direction;
  /** Distinct users of the minute's events (event-derived series); null for operational series. */
  readonly users: number | null;
}

export interface AnomalyQuery {
  /** [from, to) on the anomaly's minute. */
  readonly from: Date;
  readonly to: Date;
  readonly series?: string;
  readonly limit: number;
  /** Leaves out anomalies of minutes with fewer distinct users (the k-anonymity gate); operational series have none and pass. */
  readonly minUsers?: number;
}

export interface AnomalyStore {
  /** Idempotent per (series, detector, t): answers how many were new. */
  record(anomalies: readonly Anomaly[]): Promise<number>;
  /** Newest first, then by series and detector. */
  list(query: AnomalyQuery): Promise<Anomaly[]>;
}

/**
 * What the ingest function reports through `Metrics`, read back per minute: CloudWatch (EMF) in
 * AWS, the local runtime's own counters in the embedded mode.
 */
export interface OperationalSeries {
  /** Minutes in [from, to) (epoch ms, whole minutes). */
  readMinutes(from: number, to: number): Promise<OperationalMinutes>;
}

/**
 * The ingest minutes kept past the live source's horizon (CloudWatch's one-minute data lasts 15
 * days, the local runtime's counters a day): the series watch keeps what it reads, the
 * operational report reads them back, the purge deletes them with the hour rollups.
 */
export interface OperationalMinuteHistory extends OperationalSeries {
  /** Idempotent: a minute kept again replaces its values. */
  keep(minutes: OperationalMinutes): Promise<void>;
  purgeBefore(cutoff: Date): Promise<number>;
}

/** The CloudWatch namespace of the functions' embedded metric format lines (and the operators' dashboard). */
export const METRICS_NAMESPACE = 'TherapeuticAnalytics';

/** The names under which the ingest function reports what `OperationalSeries` reads back. */
export const INGEST_METRIC_NAMES = {
  rejected: 'events_rejected_total',
  latency: 'ingest_latency_ms',
} as const;

/**
 * From an event's receipt at ingest to its alert's notification sent, per `channel` and
 * `severity`: the promise the safety path makes, measured where the page goes out.
 */
export const ALERT_LATENCY_METRIC = 'alert_latency_ms';

/**
 * Report runs, per `kind` and `outcome`, and their duration per `kind`: a run made by the report
 * function (ready, failed), and a research report's release when it is asked for (released,
 * refused by the privacy budget, failed).
 */
export const REPORT_METRIC_NAMES = {
  runs: 'report_runs_total',
  duration: 'report_duration_ms',
} as const;

/** The `service` dimension of the report function's metrics, which its failure alarm reads. */
export const REPORT_SERVICE = 'report';
