import { randomUUID } from 'node:crypto';
import { MinuteMetrics } from '../../functions/adapters/local/minute-metrics';
import { jsonLogger } from '../../functions/adapters/log';
import { embeddedDatabase, type EmbeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlAnomalyStore, SqlDetectorStateStore } from '../../functions/adapters/pg/sql-anomaly-stores';
import { SqlOperationalMinutes } from '../../functions/adapters/pg/sql-operational-minutes';
import { SqlRollupStore } from '../../functions/adapters/pg/sql-rollup-store';
import { WATCHED_SERIES } from '../../functions/domain/anomaly/watched-series';
import type { EventType, StoredEvent } from '../../functions/domain/events/schema';
import { PrometheusMetrics } from '../../functions/local/prometheus-metrics';
import { INGEST_METRIC_NAMES } from '../../functions/ports/anomalies';
import { makeSeriesWatch } from '../../functions/use-cases/watch-series';
import { SAMPLE_ATTRIBUTES } from '../support/events';

const MINUTE = 60_000;
const M = Date.UTC(2026, 10, 20, 10, 0);

function event(type: EventType, user: number, attributes: Record<string, unknown> = SAMPLE_ATTRIBUTES[type]): StoredEvent {
  const at = new Date(M + 15_000).toISOString();
  return {
    v: 1,
    eventId: randomUUID(),
    type,
    occurredAt: at,
    receivedAt: at,
    subject: user.toString(16).padStart(2, '0').repeat(32),
    session: 'ab'.repeat(32),
    attributes,
    context: { platform: user % 2 ? 'ios' : 'android' },
  } as StoredEvent;
}

describe('the series watch over the rollups in PostgreSQL (PGlite)', () => {
  let db: EmbeddedDatabase;
  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
    await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  });
  afterAll(() => db.close());

  it('makes each series’ minute from the stored rollups and keeps the states for the next run', async () => {
    const rollups = new SqlRollupStore(db);
    await rollups.applyEvents([
      // 20 heartbeats from 10 users on two platforms: the type's minute sums both platforms' rows.
      ...Array.from({ length: 20 }, (_, i) => event('engagement.heartbeat', i % 10)),
      ...[0, 1, 2, 3].map((user) => event('session.ended', user, { ...SAMPLE_ATTRIBUTES['session.ended'], completed: user !== 3 })),
      event('mood.reported', 4, { valence: 0.5, arousal: 0.5 }),
      event('mood.reported', 5, { valence: -0.1, arousal: 0.5 }),
    ]);
    const clock = { now: () => new Date(M + 3 * MINUTE) };
    const operational = new MinuteMetrics(new PrometheusMetrics(jsonLogger('test', 'silent')), { now: () => new Date(M + 20_000) });
    operational.observe(INGEST_METRIC_NAMES.latency, 55);
    const states = new SqlDetectorStateStore(db);
    const anomalies = new SqlAnomalyStore(db);
    const history = new SqlOperationalMinutes(db);
    const watch = () => makeSeriesWatch({ rollups, operational, history, states, anomalies, clock, logger: jsonLogger('test', 'silent') });

    const signals = await watch().tick();
    const valueOf = (key: string) => signals.find((s) => s.subject.id === key)?.value;
    expect(signals.every((s) => s.at.getTime() === M && s.anomaly === undefined)).toBe(true);
    expect(valueOf('events.per_minute{type=engagement.heartbeat}')).toBe(20);
    expect(valueOf('events.per_minute{type=session.ended}')).toBe(4);
    expect(valueOf('events.per_minute{type=crisis.signal}')).toBe(0);
    expect(valueOf('sessions.completion_rate')).toBe(0.75);
    expect(valueOf('mood.valence_mean')).toBeCloseTo(0.2);
    expect(valueOf('ingest.errors_per_minute')).toBe(0);
    expect(valueOf('ingest.latency_p95_ms')).toBeCloseTo(55, -0.5);

    const stored = await states.loadAll();
    expect(stored).toHaveLength(WATCHED_SERIES.reduce((n, s) => n + s.detectors.length, 0));
    expect(stored.every((s) => s.lastMinute === M)).toBe(true);
    // The next invocation finds the minute taken in.
    expect(await watch().tick()).toEqual([]);
    // The ingest minute read is kept for the reports, past the live counters' day.
    expect(await history.readMinutes(M, M + MINUTE)).toEqual({ ingestErrors: [], ingestLatencyP95Ms: [{ t: M, value: (await operational.readMinutes(M, M + MINUTE)).ingestLatencyP95Ms[0]!.value }] });
  });
});
