import { randomUUID } from 'node:crypto';
import { MinuteMetrics } from '../../../functions/adapters/local/minute-metrics';
import { jsonLogger, type Logger } from '../../../functions/adapters/log';
import type { MinuteValue, OperationalMinutes } from '../../../functions/domain/anomaly/watched-series';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { QueryError } from '../../../functions/domain/rollups/metric-query';
import { computeRollups, type RollupRow } from '../../../functions/domain/rollups/rollup';
import { PrometheusMetrics } from '../../../functions/local/prometheus-metrics';
import type { Anomaly, AnomalyQuery, AnomalyStore, DetectorStateStore, DetectorStateUpdate, StoredDetectorState } from '../../../functions/ports/anomalies';
import { INGEST_METRIC_NAMES } from '../../../functions/ports/anomalies';
import { listAnomalies, makeSeriesWatch } from '../../../functions/use-cases/watch-series';
import { memoryRollupReader } from '../../support/memory-rollups';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 20, 8, 0);
const HEARTBEATS = 'events.per_minute{type=engagement.heartbeat}';

/** Like the PostgreSQL store: states go through JSON, and a save is conditional on the loaded minute. */
class MemoryStates implements DetectorStateStore {
  readonly rows = new Map<string, string>();
  async loadAll(): Promise<StoredDetectorState[]> {
    return [...this.rows.values()].map((json) => JSON.parse(json) as StoredDetectorState);
  }
  async save(updates: readonly DetectorStateUpdate[]): Promise<boolean> {
    const current = (u: DetectorStateUpdate) => this.rows.get(`${u.series}/${u.detector}`);
    const fresh = updates.every((u) => {
      const stored = current(u);
      return u.previousMinute === null ? stored === undefined : stored !== undefined && (JSON.parse(stored) as StoredDetectorState).lastMinute === u.previousMinute;
    });
    if (!fresh) return false;
    for (const { previousMinute: _, ...state } of updates) this.rows.set(`${state.series}/${state.detector}`, JSON.stringify(state));
    return true;
  }
}

class MemoryAnomalies implements AnomalyStore {
  readonly rows = new Map<string, Anomaly>();
  async record(anomalies: readonly Anomaly[]): Promise<number> {
    let added = 0;
    for (const anomaly of anomalies) {
      const id = `${anomaly.series}/${anomaly.detector}/${anomaly.t.getTime()}`;
      if (this.rows.has(id)) continue;
      this.rows.set(id, anomaly);
      added++;
    }
    return added;
  }
  async list(query: AnomalyQuery): Promise<Anomaly[]> {
    return [...this.rows.values()]
      .filter((a) => a.t >= query.from && a.t < query.to && (query.series === undefined || a.series === query.series))
      .filter((a) => query.minUsers === undefined || a.users === null || a.users >= query.minUsers)
      .sort((a, b) => b.t.getTime() - a.t.getTime())
      .slice(0, query.limit);
  }
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function heartbeats(minute: number, count: number, users: number): StoredEvent[] {
  const at = new Date(T0 + minute * MINUTE + 10_000).toISOString();
  return Array.from({ length: count }, (_, i) => ({
    v: 1,
    eventId: randomUUID(),
    type: 'engagement.heartbeat',
    occurredAt: at,
    receivedAt: at,
    subject: (i % users).toString(16).padStart(2, '0').repeat(32),
    session: 'ab'.repeat(32),
    attributes: { screen: 'journal', activeSec: 30 },
    context: { platform: 'ios' },
  }));
}

/** A deployment of the watch: shared stores, a stepped clock, and a fresh use case per tick (a Lambda invocation each). */
function deployment() {
  let now = T0;
  const clock = { now: () => new Date(now) };
  const rows: RollupRow[] = [];
  const states = new MemoryStates();
  const anomalies = new MemoryAnomalies();
  const operational = new MinuteMetrics(new PrometheusMetrics(jsonLogger('test', 'silent')), clock);
  const kept: MinuteValue[] = [];
  const history = { keep: async (minutes: OperationalMinutes) => void kept.push(...minutes.ingestLatencyP95Ms) };
  const watch = () => makeSeriesWatch({ rollups: memoryRollupReader(rows), operational, history, states, anomalies, clock, logger: silent });
  return {
    states,
    /** The ingest latency minutes the watch handed over to be kept, in order. */
    kept,
    anomalies,
    operational,
    at: (ms: number) => (now = ms),
    /** Events of a minute as the aggregator would have them by now. */
    add: (events: StoredEvent[]) => rows.push(...computeRollups(events, Infinity)),
    tick: () => watch().tick(),
    watch,
  };
}

/** Steady traffic: 18 to 22 heartbeats a minute from 12 users, and a request a minute at ingest. */
function steadyMinute(d: ReturnType<typeof deployment>, minute: number): void {
  d.add(heartbeats(minute, 18 + ((minute * 7) % 5), 12));
  d.at(T0 + minute * MINUTE + 30_000);
  d.operational.observe(INGEST_METRIC_NAMES.latency, 40 + (minute % 3));
}

describe('the series watch', () => {
  it('starts at the latest settled minute on its first run, without replaying history', async () => {
    const d = deployment();
    for (let minute = 0; minute < 30; minute++) d.add(heartbeats(minute, 20, 12));
    // 30 minutes in, plus 30 s: minute 28 ended 90 s ago, minute 29 has not settled yet.
    d.at(T0 + 30 * MINUTE + 30_000);
    const signals = await d.tick();
    const beats = signals.filter((s) => s.subject.id === HEARTBEATS);
    expect(beats).toEqual([{ name: 'events.per_minute', subject: { kind: 'series', id: HEARTBEATS }, value: 20, at: new Date(T0 + 28 * MINUTE), labels: { type: 'engagement.heartbeat' } }]);
    // A quiet counter is a 0; a rate of no sessions and a mean of no moods have no point.
    expect(signals.find((s) => s.subject.id === 'events.per_minute{type=crisis.signal}')?.value).toBe(0);
    expect(signals.map((s) => s.name)).not.toContain('sessions.completion_rate');
    expect(signals.map((s) => s.name)).not.toContain('mood.valence_mean');
    // The same minute again: nothing new to judge.
    expect(await d.tick()).toEqual([]);
  });

  it('records a planted spike and signals it with the verdict within 2 minutes of the minute settling, across fresh invocations', async () => {
    const d = deployment();
    // Two and a half hours of steady minutes, a tick a minute, each by a fresh use case: the
    // robust z-score needs 120 minutes of warm-up, which only a state kept between runs gives it.
    const spikeMinute = 150;
    for (let minute = 0; minute < spikeMinute; minute++) {
      steadyMinute(d, minute);
      await d.tick();
    }
    expect(d.anomalies.rows.size).toBe(0);

    d.add(heartbeats(spikeMinute, 200, 15));
    const settledAt = T0 + (spikeMinute + 1) * MINUTE + 90_000;
    const flagged = [];
    for (let step = 0; step <= 4 && flagged.length === 0; step++) {
      d.at(settledAt + step * 30_000);
      flagged.push(...(await d.tick()).filter((s) => s.subject.id === HEARTBEATS && s.anomaly));
    }
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ name: 'events.per_minute', value: 200, at: new Date(T0 + spikeMinute * MINUTE), labels: { type: 'engagement.heartbeat' } });
    expect(flagged[0]!.anomaly).toMatchObject({ anomalous: true, direction: 'spike', detector: 'robust_z' });
    expect(flagged[0]!.anomaly!.expected).toBeGreaterThanOrEqual(18);

    const recorded = [...d.anomalies.rows.values()];
    expect(recorded).toEqual([expect.objectContaining({ series: HEARTBEATS, detector: 'robust_z', t: new Date(T0 + spikeMinute * MINUTE), value: 200, users: 15 })]);

    // A run over the same minutes (a retried invocation) records nothing twice and signals nothing again.
    expect(await d.tick()).toEqual([]);
    expect(d.anomalies.rows.size).toBe(1);

    // Below k = 20 users the spike's minute is held back from GET /v1/anomalies; at k = 10 it shows.
    const range = { from: new Date(T0).toISOString(), to: new Date(T0 + 1000 * MINUTE).toISOString() };
    expect((await listAnomalies(d.anomalies, range, { k: 20 })).anomalies).toEqual([]);
    expect((await listAnomalies(d.anomalies, range, { k: 10 })).anomalies).toEqual([
      { series: HEARTBEATS, name: 'events.per_minute', labels: { type: 'engagement.heartbeat' }, detector: 'robust_z', t: new Date(T0 + spikeMinute * MINUTE).toISOString().replace('.000Z', 'Z'), value: 200, expected: expect.any(Number), score: expect.any(Number), direction: 'spike' },
    ]);
  });

  it('lets only one of two overlapping runs advance the states and signal the minutes', async () => {
    const d = deployment();
    steadyMinute(d, 0);
    d.at(T0 + 2 * MINUTE + 30_000);
    await d.tick();
    steadyMinute(d, 1);
    steadyMinute(d, 2);
    d.at(T0 + 4 * MINUTE + 30_000);
    const [a, b] = await Promise.all([d.watch().tick(), d.watch().tick()]);
    const heartbeatSignals = [...a, ...b].filter((s) => s.subject.id === HEARTBEATS);
    expect(heartbeatSignals.map((s) => s.at.getTime())).toEqual([T0 + MINUTE, T0 + 2 * MINUTE]);
    const stored = (await d.states.loadAll()).find((s) => s.series === HEARTBEATS && s.detector === 'robust_z')!;
    expect(stored.lastMinute).toBe(T0 + 2 * MINUTE);
  });

  it('hands every ingest minute it reads over to be kept for the reports, each settled minute once', async () => {
    const d = deployment();
    for (let minute = 0; minute < 5; minute++) {
      steadyMinute(d, minute);
      await d.tick();
    }
    // By the fifth run (minute 4 and 30 s) minutes 0 to 2 have settled, each read by one run.
    expect(d.kept.map((point) => (point.t - T0) / MINUTE)).toEqual([0, 1, 2]);
    expect(d.kept).toEqual((await d.operational.readMinutes(T0, T0 + 3 * MINUTE)).ingestLatencyP95Ms);
  });

  it('catches up at most a day after a long pause', async () => {
    const d = deployment();
    d.at(T0 + 2 * MINUTE + 30_000);
    await d.tick();
    d.at(T0 + 3 * 1440 * MINUTE + 30_000);
    const signals = (await d.tick()).filter((s) => s.subject.id === HEARTBEATS);
    // The latest settled minute is the one that ended 90 s before; the day up to it is judged.
    const latest = T0 + 3 * 1440 * MINUTE - 2 * MINUTE;
    expect(signals).toHaveLength(1440);
    expect(signals.map((s) => s.at.getTime())).toEqual(Array.from({ length: 1440 }, (_, i) => latest - (1439 - i) * MINUTE));
  });
});

describe('listAnomalies', () => {
  it.each([
    [{ to: '2026-11-20T00:00:00Z' }, 'from'],
    [{ from: 'yesterday', to: '2026-11-20T00:00:00Z' }, 'from'],
    [{ from: '2026-11-20T00:00:00Z', to: '2026-11-19T00:00:00Z' }, 'to'],
    [{ from: '2026-11-19T00:00:00Z', to: '2026-11-20T00:00:00Z', limit: '0' }, 'limit'],
    [{ from: '2026-11-19T00:00:00Z', to: '2026-11-20T00:00:00Z', series: '' }, 'series'],
    [{ from: '2026-11-19T00:00:00Z', to: '2026-11-20T00:00:00Z', series: 'events.per_minute{type=nope}' }, 'series'],
  ])('refuses %j, naming the parameter', async (params, parameter) => {
    const error = await listAnomalies(new MemoryAnomalies(), params, { k: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).parameter).toBe(parameter);
  });
});
