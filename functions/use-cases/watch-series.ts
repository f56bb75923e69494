import type { Logger } from '../adapters/log';
import type { Verdict } from '../domain/anomaly/detector';
import {
  initialDetectorState,
  MINUTE_MS,
  observe,
  ROLLUP_READS,
  seriesPoints,
  strongestAnomaly,
  WATCHED_SERIES,
  type DetectorName,
  type RollupMinutes,
  type WatchedSeries,
} from '../domain/anomaly/watched-series';
import type { Signal } from '../domain/alerting/model';
import { projectSeriesRows, QueryError, type SeriesRow } from '../domain/rollups/metric-query';
import { rowSource } from '../domain/rollups/rollup';
import type { Clock } from '../ports';
import type { Anomaly, AnomalyStore, DetectorStateStore, DetectorStateUpdate, OperationalMinuteHistory, OperationalSeries, StoredDetectorState } from '../ports/anomalies';
import type { RollupReader } from '../ports/rollups';
import { anomalyQuerySchema, type AnomalyQueryParameters, type AnomalyView } from '../domain/anomaly/anomaly-query';
import { issueMessage } from '../domain/api/issue-message';

/** A minute is judged once it has been closed this long, so the aggregator's late batches are in. */
export const DEFAULT_SETTLE_MS = 90_000;
/** After a long pause the watch catches up at most this far back; older minutes are skipped. */
export const MAX_CATCH_UP_MS = 24 * 3_600_000;

export interface SeriesWatchDeps {
  readonly rollups: RollupReader;
  readonly operational: OperationalSeries;
  /** Where the operational minutes read are kept for the reports, past the live source's horizon. */
  readonly history: Pick<OperationalMinuteHistory, 'keep'>;
  readonly states: DetectorStateStore;
  readonly anomalies: AnomalyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settleMs?: number;
}

export interface SeriesWatch {
  /** Judges every settled minute not judged yet; answers one signal per series point of those minutes. */
  tick(): Promise<Signal[]>;
}

type SignalAnomaly = NonNullable<Signal['anomaly']>;

/**
 * The streaming anomaly detection of the metric series, one run per scheduled invocation: the
 * detectors' states come from the store and go back to it, so a run resumes where the last one
 * stopped whichever Lambda instance it runs in. A first run starts at the latest settled minute
 * rather than replaying history (the detectors warm up on live minutes instead).
 *
 * Anomalies are recorded before the states are saved: a run that dies in between is redone by the
 * next from the same states, and recording is idempotent. When two runs overlap, the one whose
 * save loses answers no signals for that series, so a point is signalled once.
 */
export function makeSeriesWatch(deps: SeriesWatchDeps): SeriesWatch {
  const settleMs = deps.settleMs ?? DEFAULT_SETTLE_MS;

  return {
    async tick() {
      // The latest minute whose end is at least settleMs ago.
      const latest = Math.floor((deps.clock.now().getTime() - settleMs) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
      const oldest = latest - MAX_CATCH_UP_MS + MINUTE_MS;
      const stored = new Map((await deps.states.loadAll()).map((s) => [stateId(s.series, s.detector), s]));
      const plans = WATCHED_SERIES.map((series) => planSeries(series, stored, latest, oldest)).filter((plan) => plan.from <= latest);
      if (plans.length === 0) return [];

      const from = Math.min(...plans.map((plan) => plan.from));
      const to = latest + MINUTE_MS;
      const [rollups, operational] = await Promise.all([readRollupMinutes(deps.rollups, from, to), deps.operational.readMinutes(from, to)]);
      await deps.history.keep(operational);
      const minutes = Array.from({ length: (to - from) / MINUTE_MS }, (_, i) => from + i * MINUTE_MS);
      const points = seriesPoints(minutes, rollups, operational);

      const judged = plans.map((plan) => judgeSeries(plan, points.get(plan.series.key) ?? [], latest));
      const recorded = await deps.anomalies.record(judged.flatMap((j) => j.anomalies));
      const signals: Signal[] = [];
      for (const j of judged) {
        if (await deps.states.save(j.updates)) signals.push(...j.signals);
        else deps.logger.warn('another run advanced the series first', { series: j.series });
      }
      deps.logger.info('series watched', { from: new Date(from).toISOString(), to: new Date(to).toISOString(), signals: signals.length, anomalies: recorded });
      return signals;
    },
  };
}

const stateId = (series: string, detector: DetectorName) => `${series}\u0000${detector}`;

interface SeriesPlan {
  readonly series: WatchedSeries;
  readonly detectors: readonly { readonly name: DetectorName; readonly stored: StoredDetectorState | undefined; readonly from: number }[];
  /** The first minute any of its detectors still has to take in. */
  readonly from: number;
}

function planSeries(series: WatchedSeries, stored: ReadonlyMap<string, StoredDetectorState>, latest: number, oldest: number): SeriesPlan {
  const detectors = series.detectors.map((name) => {
    const state = stored.get(stateId(series.key, name));
    return { name, stored: state, from: state === undefined ? latest : Math.max(state.lastMinute + MINUTE_MS, oldest) };
  });
  return { series, detectors, from: Math.min(...detectors.map((d) => d.from)) };
}

interface Judged {
  readonly series: string;
  readonly anomalies: Anomaly[];
  readonly updates: DetectorStateUpdate[];
  readonly signals: Signal[];
}

function judgeSeries(plan: SeriesPlan, points: readonly { t: number; value: number; users?: number }[], latest: number): Judged {
  const { series } = plan;
  const verdicts = new Map<number, SignalAnomaly[]>();
  const anomalies: Anomaly[] = [];
  const updates = plan.detectors.map((detector): DetectorStateUpdate => {
    let state = detector.stored?.state ?? initialDetectorState(series, detector.name);
    for (const point of points) {
      if (point.t < detector.from) continue;
      const observation = observe(state, point);
      state = observation.state;
      if (!observation.verdict) continue;
      const verdict: SignalAnomaly = { ...observation.verdict, detector: detector.name };
      verdicts.set(point.t, [...(verdicts.get(point.t) ?? []), verdict]);
      if (verdict.anomalous) anomalies.push(anomalyOf(series, point, verdict, detector.name));
    }
    return { series: series.key, detector: detector.name, state, lastMinute: latest, previousMinute: detector.stored?.lastMinute ?? null };
  });
  const signals = points
    .filter((point) => point.t >= plan.from)
    .map((point): Signal => {
      const anomaly = strongestAnomaly(verdicts.get(point.t) ?? []);
      const signal: Signal = { name: series.name, subject: { kind: 'series', id: series.key }, value: point.value, at: new Date(point.t), labels: series.labels };
      return anomaly ? { ...signal, anomaly } : signal;
    });
  return { series: series.key, anomalies, updates, signals };
}

function anomalyOf(series: WatchedSeries, point: { t: number; value: number; users?: number }, verdict: Verdict, detector: DetectorName): Anomaly {
  return {
    series: series.key,
    name: series.name,
    labels: series.labels,
    detector,
    t: new Date(point.t),
    value: point.value,
    expected: verdict.expected,
    score: verdict.score,
    direction: verdict.direction,
    users: series.source === 'rollups' ? (point.users ?? 0) : null,
  };
}

async function readRollupMinutes(store: RollupReader, from: number, to: number): Promise<RollupMinutes> {
  const read = async ({ metric, grouping, values }: { metric: string; grouping: string; values: boolean }): Promise<SeriesRow[]> => {
    const source = rowSource(metric, 'minute', grouping);
    const rows = { metric, interval: 'minute' as const, grouping: source.grouping, from, to, values };
    // Summed from the finest rows' sketches, so each minute's distinct users are exact, not added up.
    return source.project ? projectSeriesRows(await store.readSeriesSketches(rows), source.project) : store.readSeries(rows);
  };
  const [eventsByType, sessionsCompleted, mood] = await Promise.all([read(ROLLUP_READS.eventsByType), read(ROLLUP_READS.sessionsCompleted), read(ROLLUP_READS.mood)]);
  return { eventsByType, sessionsCompleted, mood };
}

/**
 * GET /v1/anomalies: newest first. An anomaly of an event-derived series whose minute had fewer
 * than k distinct users is left out (the k-anonymity rule: a spike of two users' crisis signals
 * would single them out); operational series carry no users and always pass.
 */
export async function listAnomalies(
  store: AnomalyStore,
  params: Record<string, unknown>,
  options: { readonly k: number },
): Promise<{ anomalies: AnomalyView[]; query: AnomalyQueryParameters }> {
  const parsed = anomalyQuerySchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new QueryError(String(issue.path[0] ?? 'query'), issueMessage(issue));
  }
  const anomalies = await store.list({ ...parsed.data, minUsers: options.k });
  return {
    anomalies: anomalies.map(({ users: _users, t, ...anomaly }) => ({ ...anomaly, t: t.toISOString().replace('.000Z', 'Z') })),
    query: parsed.data,
  };
}
