import type { SqlDatabase } from '../../functions/adapters/pg/database';
import { PRODUCT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlAnomalyStore, SqlDetectorStateStore } from '../../functions/adapters/pg/sql-anomaly-stores';
import { SqlOperationalMinutes } from '../../functions/adapters/pg/sql-operational-minutes';
import { initialDetectorState, observe, WATCHED_SERIES } from '../../functions/domain/anomaly/watched-series';
import type { Anomaly, DetectorStateUpdate } from '../../functions/ports/anomalies';
import { contractOnBothDatabases } from '../support/both-databases';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0);
const series = WATCHED_SERIES[0]!;

const anomaly = (minute: number, overrides: Partial<Anomaly> = {}): Anomaly => ({
  series: series.key,
  name: series.name,
  labels: series.labels,
  detector: 'robust_z',
  t: new Date(T0 + minute * MINUTE),
  value: 50,
  expected: 3,
  score: 12.5,
  direction: 'spike',
  users: 14,
  ...overrides,
});

async function expectStateContract(db: SqlDatabase): Promise<void> {
  const states = new SqlDetectorStateStore(db);
  const fresh = initialDetectorState(series, 'robust_z');
  const first: DetectorStateUpdate = { series: series.key, detector: 'robust_z', state: fresh, lastMinute: T0, previousMinute: null };
  expect(await states.save([first])).toBe(true);
  // A second first save (another invocation that also found no state) changes nothing.
  expect(await states.save([{ ...first, lastMinute: T0 + MINUTE }])).toBe(false);
  expect(await states.loadAll()).toEqual([{ series: series.key, detector: 'robust_z', state: fresh, lastMinute: T0 }]);

  // Two invocations advance the same state from the same minute at once: exactly one wins.
  const advanced = observe(fresh, { t: T0 + MINUTE, value: 4 }).state;
  const advance = (value: number): DetectorStateUpdate => ({
    series: series.key,
    detector: 'robust_z',
    state: observe(fresh, { t: T0 + MINUTE, value }).state,
    lastMinute: T0 + MINUTE,
    previousMinute: T0,
  });
  const outcomes = await Promise.all([states.save([advance(4)]), states.save([advance(9)])]);
  expect(outcomes.filter(Boolean)).toHaveLength(1);
  const [stored] = await states.loadAll();
  expect(stored!.lastMinute).toBe(T0 + MINUTE);
  expect(stored!.state).toEqual(outcomes[0] ? advanced : advance(9).state);

  // All or nothing: a save with one stale update leaves the fresh one unsaved too.
  const seasonalFirst: DetectorStateUpdate = { series: series.key, detector: 'seasonal', state: initialDetectorState(series, 'seasonal'), lastMinute: T0 + MINUTE, previousMinute: null };
  expect(await states.save([seasonalFirst, { ...advance(4), previousMinute: T0 }])).toBe(false);
  expect((await states.loadAll()).map((state) => state.detector)).toEqual(['robust_z']);
}

async function expectAnomalyContract(db: SqlDatabase): Promise<void> {
  const store = new SqlAnomalyStore(db);
  const operational = WATCHED_SERIES.find((s) => s.source === 'operational')!;
  expect(await store.record([anomaly(0), anomaly(1, { users: 3 }), anomaly(1, { detector: 'seasonal', score: 8, users: 3 })])).toBe(3);
  expect(await store.record([anomaly(2, { series: operational.key, name: operational.name, labels: {}, users: null, direction: 'dip' })])).toBe(1);
  // The same (series, detector, minute) again is recorded once.
  expect(await store.record([anomaly(0, { value: 99 }), anomaly(1, { users: 3 })])).toBe(0);

  const all = await store.list({ from: new Date(T0), to: new Date(T0 + 10 * MINUTE), limit: 10 });
  expect(all.map((a) => [a.t.getTime(), a.series, a.detector])).toEqual([
    [T0 + 2 * MINUTE, operational.key, 'robust_z'],
    [T0 + MINUTE, series.key, 'robust_z'],
    [T0 + MINUTE, series.key, 'seasonal'],
    [T0, series.key, 'robust_z'],
  ]);
  expect(all[3]).toEqual(anomaly(0));
  expect(all[0]!.users).toBeNull();

  expect(await store.list({ from: new Date(T0 + MINUTE), to: new Date(T0 + 2 * MINUTE), limit: 10 })).toHaveLength(2);
  expect(await store.list({ from: new Date(T0), to: new Date(T0 + 10 * MINUTE), series: series.key, limit: 2 })).toHaveLength(2);
  const gated = await store.list({ from: new Date(T0), to: new Date(T0 + 10 * MINUTE), limit: 10, minUsers: 10 });
  // The minute of 3 users is held back; the operational series has no users and passes.
  expect(gated.map((a) => a.users)).toEqual([null, 14]);
}

async function expectContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  await expectStateContract(db);
  await expectAnomalyContract(db);
}

contractOnBothDatabases('SQL detector states and anomalies', 'saves a state only from the minute it was loaded with, and records anomalies once, listed newest first', expectContract);

async function expectOperationalMinutesContract(db: SqlDatabase): Promise<void> {
  await migrate(db, 'product', loadMigrations(PRODUCT_MIGRATIONS_DIR));
  const history = new SqlOperationalMinutes(db);
  const at = (minute: number) => T0 + minute * MINUTE;
  // A minute with errors and requests, one with requests only, one with errors only.
  await history.keep({ ingestErrors: [{ t: at(0), value: 3 }, { t: at(2), value: 1 }], ingestLatencyP95Ms: [{ t: at(0), value: 41.5 }, { t: at(1), value: 12.25 }] });
  await history.keep({ ingestErrors: [], ingestLatencyP95Ms: [] });
  expect(await history.readMinutes(at(0), at(3))).toEqual({
    ingestErrors: [{ t: at(0), value: 3 }, { t: at(2), value: 1 }],
    ingestLatencyP95Ms: [{ t: at(0), value: 41.5 }, { t: at(1), value: 12.25 }],
  });
  // [from, to): the minute at `to` is not read.
  expect(await history.readMinutes(at(1), at(2))).toEqual({ ingestErrors: [], ingestLatencyP95Ms: [{ t: at(1), value: 12.25 }] });

  // A minute kept again (a watch run redone) is replaced, not added to.
  await history.keep({ ingestErrors: [{ t: at(0), value: 4 }], ingestLatencyP95Ms: [{ t: at(0), value: 40 }] });
  expect((await history.readMinutes(at(0), at(1))).ingestErrors).toEqual([{ t: at(0), value: 4 }]);

  expect(await history.purgeBefore(new Date(at(2)))).toBe(2);
  expect(await history.readMinutes(at(0), at(3))).toEqual({ ingestErrors: [{ t: at(2), value: 1 }], ingestLatencyP95Ms: [] });
}

contractOnBothDatabases('SQL operational minutes', 'keeps ingest minutes once each, reads a range back and purges before a cutoff', expectOperationalMinutesContract);
