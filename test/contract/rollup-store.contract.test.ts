import { randomBytes, randomUUID } from 'node:crypto';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase, embeddedDatabaseClient } from '../../functions/adapters/pg/pglite-database';
import { loadMigrations, migrate, PRODUCT_MIGRATIONS_DIR } from '../../functions/adapters/pg/migrator';
import { MINUTE_USER_PARTS, SqlRollupStore } from '../../functions/adapters/pg/sql-rollup-store';
import { SqlPatternStore } from '../../functions/adapters/pg/sql-behavior-patterns';
import { FeatureStateWriter, readFeatureStates, signedSubjectHash } from '../../functions/adapters/pg/sql-user-features';
import { featureDeltas, userFeatures } from '../../functions/domain/behaviour/features';
import type { StoredEvent } from '../../functions/domain/events/schema';
import { computeRollups } from '../../functions/domain/rollups/rollup';
import { METRICS } from '../../functions/domain/rollups/catalogue';
import { syntheticTraffic } from '../../functions/domain/demo/synthetic-traffic';
import { toStoredEvent } from '../../functions/domain/events/validate';
import { pseudonymisers } from '../../functions/handlers/ingest';
import { memoryRollupReader } from '../support/memory-rollups';
import type { RollUpStep, RollupReader, RollupStore } from '../../functions/ports/rollups';
import type { MetricAnswer, MetricQueryParams, MetricPoint, SeriesSketchRow } from '../../functions/domain/rollups/metric-query';
import { calendarBounds, isoInstantInZone, type CalendarUnit } from '../../functions/domain/rollups/calendar';
import { QuantileSketch } from '../../functions/domain/rollups/quantile-sketch';
import { queryMetric } from '../../functions/use-cases/query-metric';
import { describeWithServices, freshPostgresUrl } from '../support/services';

const ROLLUP_MIGRATIONS = loadMigrations(PRODUCT_MIGRATIONS_DIR);

/** Rows as the first schema (001, before the partitions) stored them, written straight into its table. */
async function writeFirstSchemaRows(db: SqlDatabase, events: readonly StoredEvent[]): Promise<void> {
  const { rows } = await db.query<{ seq: number }>('UPDATE rollup_writer SET seq = seq + 1 RETURNING seq');
  for (const row of computeRollups(events, Infinity)) {
    const estimate = row.users.estimate();
    const quantiles = row.quantiles?.pointQuantiles();
    await db.query(
      `INSERT INTO rollups (metric, interval, grouping, bucket, group_key, count, sum, min, max, qsketch, p50, p95, users, users_count, users_approx, version)
       VALUES ($1, $2, $3, to_timestamp($4::int8 / 1000), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [row.metric, row.interval, row.grouping, row.bucket, row.groupKey, row.count, row.sum, row.min, row.max,
       row.quantiles?.serialize() ?? null, quantiles?.p50 ?? null, quantiles?.p95 ?? null,
       row.users.serialize(), estimate.count, estimate.approximate, rows[0]!.seq],
    );
  }
}

const user = (): string => randomBytes(32).toString('hex');

function event(type: string, attributes: object, subject: string, at: string, platform: string): StoredEvent {
  return { v: 1, eventId: randomUUID(), type, occurredAt: at, receivedAt: at, subject, session: user(), attributes, context: { platform } } as StoredEvent;
}

/** Every roll-up step up to `until`. */
async function rollUpAll(store: RollupStore, until: string): Promise<number> {
  let steps = 0;
  while (!(await store.rollUp(Date.parse(until))).done) steps++;
  return steps + 1;
}

/** Sums added up in another order differ in the last bits. */
function sumsToTwelveDigits(answer: MetricAnswer): MetricAnswer {
  const round = (n: number | undefined) => (n === undefined ? n : Number(n.toPrecision(12)));
  return { ...answer, series: answer.series.map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, sum: round(p.sum), mean: round(p.mean) })) })) };
}

function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/** `another` opens a second connection to the same database, as a second Lambda instance would. */
/**
 * A filter on a dimension not grouped by, of one value (a point is one stored cell) and of two (a
 * point merges two), at every interval (minutes crossing the roll-up's watermark): the same
 * answer as the reference's, and with k = 1 (nothing withheld) each point the sum of the
 * selected groups' points, and its users no more than theirs.
 */
async function filtersAddUp(store: RollupReader, reference: RollupReader, range: { from: string; to: string }, k: number): Promise<void> {
  for (const metric of METRICS.filter((m) => m.dimensions.length >= 2)) {
    const [first, second] = metric.dimensions as [string, string];
    for (const [interval, selected] of ['minute', 'hour', 'day'].flatMap((i) => [1, 2].map((n) => [i, n] as const))) {
      const ranged = interval === 'minute' ? { from: '2026-11-25T14:00:00Z', to: '2026-11-25T17:00:00Z' } : range;
      const grouped = await queryMetric(store, { metric: metric.name, ...ranged, interval, groupBy: `${first},${second}` }, { k: 1 });
      // Filtered by the second dimension, or by the first where the traffic holds too few values of
      // the second (rated interventions are mostly of standard urgency).
      const valuesOf = (dimension: string) => [...new Set(grouped.series.map((s) => s.group[dimension]!))].sort().slice(0, selected);
      const [kept, filtered] = valuesOf(second).length >= selected ? [first, second] : [second, first];
      const values = valuesOf(filtered);
      if (values.length < selected) {
        // Only the three hours of minutes may hold a single rated intervention; hours and days always hold two values.
        expect([interval, metric.name]).toEqual(['minute', 'intervention.effectiveness']);
        continue;
      }
      const query = { metric: metric.name, ...ranged, interval, groupBy: kept, filter: values.map((value) => `${filtered}:${value}`).join(',') };
      expect(sumsToTwelveDigits(await queryMetric(store, query, { k }))).toEqual(sumsToTwelveDigits(await queryMetric(reference, query, { k })));
      const summed = new Map<string, { count: number; sum: number; users: number }>();
      for (const series of grouped.series.filter((s) => values.includes(s.group[filtered]!))) {
        for (const point of series.points) {
          const id = `${series.group[kept]} ${point.t}`;
          const total = summed.get(id) ?? { count: 0, sum: 0, users: 0 };
          summed.set(id, { count: total.count + point.count, sum: total.sum + (point.sum ?? 0), users: total.users + point.users });
        }
      }
      const answer = await queryMetric(store, query, { k: 1 });
      expect(answer.filter).toEqual({ [filtered]: values });
      const points = answer.series.flatMap((series) => series.points.map((point) => ({ id: `${series.group[kept]} ${point.t}`, point })));
      expect(points.map(({ id }) => id).sort()).toEqual([...summed.keys()].sort());
      for (const { id, point } of points) {
        expect([point.count, Number((point.sum ?? 0).toPrecision(9))]).toEqual([summed.get(id)!.count, Number(summed.get(id)!.sum.toPrecision(9))]);
        expect(point.users).toBeLessThanOrEqual(summed.get(id)!.users);
      }
    }
  }
}

function rollupStoreContract(open: () => Promise<{ db: SqlDatabase; another: () => Promise<SqlDatabase>; close: () => Promise<void> }>): void {
  let store: RollupStore;
  let db: SqlDatabase;
  let another: () => Promise<SqlDatabase>;
  let close: () => Promise<void>;
  const K = 5;

  // 1,200 iOS users (over the explicit limit at the hour) send moods and choices at 10:00-10:19;
  // 4 Android users (under k) send moods at 10:30.
  const iosUsers = Array.from({ length: 1_200 }, user);
  const androidUsers = Array.from({ length: K - 1 }, user);
  const valences = iosUsers.map((_, i) => Math.round(((i % 201) / 100 - 1) * 100) / 100);
  const responseTimes = iosUsers.map((_, i) => 200 + ((i * 7919) % 5_000));
  const moods = iosUsers.map((u, i) => event('mood.reported', { valence: valences[i], arousal: 0.5 }, u, `2026-11-20T10:${String(i % 20).padStart(2, '0')}:30.000Z`, 'ios'));
  const choices = iosUsers.map((u, i) =>
    event('choice.made', { scenarioId: 'forest', sceneId: 's', choiceId: 'c', choiceType: i % 2 ? 'therapeutic' : 'narrative', therapeuticValue: 0.5, responseTimeMs: responseTimes[i] }, u, '2026-11-20T10:05:00.000Z', 'ios'),
  );
  const android = androidUsers.map((u) => event('mood.reported', { valence: 0.9, arousal: 0.5 }, u, '2026-11-20T10:30:00.000Z', 'android'));
  const all = [...moods, ...choices, ...android];
  const day = { from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z' };

  beforeAll(async () => {
    const opened = await open();
    await migrate(opened.db, 'product', ROLLUP_MIGRATIONS);
    store = new SqlRollupStore(opened.db);
    db = opened.db;
    another = opened.another;
    close = opened.close;
    for (let i = 0; i < all.length; i += 500) await store.applyEvents(all.slice(i, i + 500));
  });
  afterAll(() => close());

  it('answers exact counts, sums and users per point, and p50/p95 within 1%', async () => {
    const answer = await queryMetric(store, { metric: 'mood.valence', ...day, interval: 'hour' }, { k: K });
    const [point] = answer.series[0]!.points;
    const everyValence = [...valences, ...androidUsers.map(() => 0.9)];
    const sum = everyValence.reduce((a, b) => a + b, 0);
    expect(point).toMatchObject({ t: '2026-11-20T10:00:00Z', count: 1_200 + K - 1, usersApprox: true });
    expect(point!.sum).toBeCloseTo(sum, 9);
    expect(point!.mean).toBeCloseTo(sum / (1_200 + K - 1), 9);
    expect(Math.abs(point!.users - 1_204)).toBeLessThan(36);
    for (const [q, name] of [[0.5, 'p50'], [0.95, 'p95']] as const) {
      const exact = exactQuantile(everyValence, q);
      expect(Math.abs(point![name]! - exact)).toBeLessThanOrEqual(0.01 * Math.abs(exact));
    }
  });

  it('answers minute points with exact users and response-time quantiles within 1%', async () => {
    const minutes = await queryMetric(store, { metric: 'mood.valence', from: '2026-11-20T10:00:00Z', to: '2026-11-20T10:20:00Z', interval: 'minute' }, { k: K });
    // The hour minus 10:01-10:19 would leave 10:00 and Android's k - 1 at 10:30 only if 10:00
    // were shown: the earliest of the equal minutes is withheld with them.
    expect(minutes.series[0]!.points.map((p) => p.t.slice(11, 16))).toEqual(Array.from({ length: 19 }, (_, i) => `10:${String(i + 1).padStart(2, '0')}`));
    expect(minutes.series[0]!.points.every((p) => p.count === 60 && p.users === 60 && p.usersApprox === undefined)).toBe(true);
    const times = await queryMetric(store, { metric: 'choice.response_time', ...day, interval: 'day' }, { k: K });
    const [point] = times.series[0]!.points;
    expect(point).toMatchObject({ count: 1_200, usersApprox: true });
    for (const [q, name] of [[0.5, 'p50'], [0.95, 'p95']] as const) {
      expect(Math.abs(point![name]! - exactQuantile(responseTimes, q))).toBeLessThanOrEqual(0.01 * exactQuantile(responseTimes, q));
    }
  });

  it('groups by any subset of the dimensions', async () => {
    const answer = await queryMetric(store, { metric: 'events', ...day, interval: 'day', groupBy: 'platform,type' }, { k: K });
    const counts = answer.series.map((s) => [s.group, s.points[0]!.count]);
    // iOS moods would be all moods minus Android's k - 1: they are withheld with them.
    expect(counts).toEqual([[{ platform: 'ios', type: 'choice.made' }, 1_200]]);
    const byType = await queryMetric(store, { metric: 'choice.response_time', ...day, interval: 'day', groupBy: 'choiceType' }, { k: K });
    expect(byType.series.map((s) => [s.group.choiceType, s.points[0]!.count, s.points[0]!.users])).toEqual([
      ['narrative', 600, 600],
      ['therapeutic', 600, 600],
    ]);
    // Minute rows keep only the finest grouping: `type` is summed from `platform,type`.
    const minutes = await queryMetric(store, { metric: 'events', from: '2026-11-20T10:00:00Z', to: '2026-11-20T10:40:00Z', interval: 'minute', groupBy: 'type' }, { k: K });
    expect(minutes.series.map((s) => [s.group.type, s.points.length, s.points.reduce((n, p) => n + p.count, 0)])).toEqual([
      ['choice.made', 1, 1_200],
      ['mood.reported', 19, 1_200 - 60],
    ]);
    expect(minutes.suppressed).toEqual([{ reason: 'k_anonymity' }]);
  });

  it('answers every metric by every grouping as a reference summed in memory from the raw events, rolled up or not', async () => {
    // Two days of the demo's traffic: enough groups under k (small scenarios, rare platforms) for
    // the release policy to withhold cells at every level. The roll-up stops mid-afternoon of the
    // second day, so that day and its open hour are summed from stored rows and minute rows.
    const now = new Date('2026-11-26T00:00:00Z');
    const pseudonymise = pseudonymisers(Buffer.alloc(32, 7));
    const traffic = [...syntheticTraffic({ seed: 7, clock: { now: () => now }, users: 120, days: 2 })].map((e) => toStoredEvent(e, pseudonymise, now));
    const reference = memoryRollupReader(computeRollups(traffic, Infinity));
    const subject = await open();
    try {
      await migrate(subject.db, 'product', ROLLUP_MIGRATIONS);
      // The roll-up decides each day it packs for K: the answers of K read those decisions.
      const seeded = new SqlRollupStore(subject.db, { k: K });
      for (let i = 0; i < traffic.length; i += 500) await seeded.applyEvents(traffic.slice(i, i + 500));
      await rollUpAll(seeded, '2026-11-25T15:20:00Z');
      const decided = await subject.db.query<{ day: Date }>('SELECT DISTINCT day FROM rollup_hour_blocks WHERE released_k = $1', [K]);
      expect(decided.rows.map((row) => row.day.toISOString()).sort()).toEqual(['2026-11-24T00:00:00.000Z']);
      const range = { from: '2026-11-23T00:00:00Z', to: '2026-11-26T00:00:00Z' };
      let withheld = 0;
      let shown = 0;
      for (const metric of METRICS) {
        const groupings = Array.from({ length: 1 << metric.dimensions.length }, (_, mask) => metric.dimensions.filter((__, d) => mask & (1 << d)));
        for (const groupBy of groupings) {
          for (const interval of ['hour', 'day']) {
            const query = { metric: metric.name, ...range, interval, groupBy: groupBy.join(',') };
            const expected = sumsToTwelveDigits(await queryMetric(reference, query, { k: K }));
            expect(sumsToTwelveDigits(await queryMetric(seeded, query, { k: K }))).toEqual(expected);
            // A withheld cell is left out, never shown as an empty one.
            expect(expected.series.every((s) => s.points.every((p) => p.users >= K && p.count > 0))).toBe(true);
            if (expected.suppressed.length > 0) withheld++;
            shown += expected.series.reduce((n, s) => n + s.points.length, 0);
          }
        }
      }
      await filtersAddUp(seeded, reference, range, K);
      // Answers of another k decide every day themselves.
      for (const query of [{ metric: 'events', ...range, interval: 'hour', groupBy: 'platform,type' }, { metric: 'interventions', ...range, interval: 'hour', groupBy: 'urgency' }]) {
        expect(sumsToTwelveDigits(await queryMetric(seeded, query, { k: K - 2 }))).toEqual(sumsToTwelveDigits(await queryMetric(reference, query, { k: K - 2 })));
      }
      expect(traffic.length).toBeGreaterThan(1_000);
      expect(withheld).toBeGreaterThan(10);
      // And figures are compared, not only empty answers.
      expect(shown).toBeGreaterThan(200);
    } finally {
      await subject.close();
    }
  });

  it('withholds a group of k - 1 users, and the other group, which the total minus it would be; shows both at k', async () => {
    const suppressed = await queryMetric(store, { metric: 'active_users', ...day, interval: 'hour', groupBy: 'platform' }, { k: K });
    expect(suppressed).toMatchObject({ series: [], suppressed: [{ reason: 'k_anonymity' }] });
    const shown = await queryMetric(store, { metric: 'active_users', ...day, interval: 'hour', groupBy: 'platform' }, { k: K - 1 });
    expect(shown.series[0]).toEqual({ group: { platform: 'android' }, points: [{ t: '2026-11-20T10:00:00Z', count: K - 1, users: K - 1 }] });
  });

  it('changes no figure when a batch is replayed, and counts duplicates within a batch once', async () => {
    const before = await queryMetric(store, { metric: 'events', ...day, interval: 'minute', groupBy: 'type' }, { k: 1 });
    expect(await store.applyEvents(all.slice(0, 500))).toEqual({ applied: 0, duplicates: 500, fresh: [] });
    expect(await queryMetric(store, { metric: 'events', ...day, interval: 'minute', groupBy: 'type' }, { k: 1 })).toEqual(before);

    const late = event('session.ended', { scenarioId: 'lake', durationSec: 90, completed: true }, iosUsers[0]!, '2026-11-20T23:00:00.000Z', 'ios');
    expect(await store.applyEvents([late, late, { ...late }])).toEqual({ applied: 1, duplicates: 2, fresh: [late] });
    const completed = await queryMetric(store, { metric: 'sessions.completed', ...day, interval: 'day', groupBy: 'scenarioId' }, { k: 1 });
    expect(completed.series).toEqual([{ group: { scenarioId: 'lake' }, points: [{ t: '2026-11-20T00:00:00Z', count: 1, users: 1 }] }]);
    const duration = await queryMetric(store, { metric: 'session.duration', ...day, interval: 'day' }, { k: 1 });
    expect(duration.series[0]!.points[0]).toMatchObject({ count: 1, sum: 90, p50: 90, p95: 90 });
  });

  it('counts only the new events of a batch part of which was applied before, with their users and values', async () => {
    const [first, second] = [user(), user()];
    const at = (minute: number) => `2026-11-22T08:${String(minute).padStart(2, '0')}:00.000Z`;
    const ended = (subject: string, minute: number, durationSec: number) => event('session.ended', { scenarioId: 'grove', durationSec, completed: true }, subject, at(minute), 'web');
    const applied = [ended(first, 1, 10), ended(first, 2, 20), ended(first, 3, 30)];
    const added = [ended(second, 1, 40), ended(second, 4, 50)];
    expect(await store.applyEvents(applied)).toEqual({ applied: 3, duplicates: 0, fresh: applied });
    // A redelivery that carries new events among the processed ones, as a retried and split batch does.
    const redelivered = await store.applyEvents([added[0]!, applied[1]!, ...added.slice(1), applied[2]!]);
    expect(redelivered).toMatchObject({ applied: 2, duplicates: 2 });
    expect(redelivered.fresh.map((e) => e.eventId).sort()).toEqual(added.map((e) => e.eventId).sort());

    const range = { from: '2026-11-22T08:00:00Z', to: '2026-11-22T09:00:00Z' };
    const answer = await queryMetric(store, { metric: 'session.duration', ...range, interval: 'hour' }, { k: 1 });
    expect(answer.series[0]!.points).toEqual([expect.objectContaining({ t: '2026-11-22T08:00:00Z', count: 5, sum: 150, mean: 30, users: 2 })]);
  });

  it('keeps each user\'s features as their events arrive, in any order and split into any batches, counting a redelivered event once', async () => {
    const [subject, other] = [user(), user()];
    const at = (day: number, hour = 9) => new Date(Date.UTC(2026, 10, day, hour)).toISOString();
    const events: StoredEvent[] = [
      event('session.started', { scenarioId: 'lake', channel: 'app' }, subject, at(2), 'ios'),
      event('session.ended', { scenarioId: 'lake', durationSec: 300, activeSec: 250, completed: true }, subject, at(2, 10), 'ios'),
      event('mood.reported', { valence: -0.4, arousal: 0.5 }, subject, at(3), 'ios'),
      event('assessment.completed', { instrument: 'PHQ-9', score: 18 }, subject, at(3), 'ios'),
      event('session.ended', { scenarioId: 'lake', durationSec: 420, activeSec: 400, completed: false }, subject, at(9), 'ios'),
      event('mood.reported', { valence: 0.2, arousal: 0.5 }, subject, at(10), 'ios'),
      event('assessment.completed', { instrument: 'PHQ-9', score: 11 }, subject, at(16), 'ios'),
      event('choice.made', { scenarioId: 'lake', sceneId: 's1', choiceId: 'c1', choiceType: 'therapeutic', therapeuticValue: 0.8, responseTimeMs: 1200 }, subject, at(16), 'ios'),
      event('intervention.delivered', { interventionType: 'breathing', urgency: 'standard', completion: 'completed' }, subject, at(16), 'ios'),
      event('mood.reported', { valence: 0.5, arousal: 0.5 }, other, at(4), 'web'),
    ];
    // Newest first, in three batches, the middle one delivered twice.
    const batches = [events.slice(6), events.slice(3, 6), events.slice(3, 6), events.slice(0, 3)];
    for (const batch of batches) await store.applyEvents(batch);

    const states = await readFeatureStates(db, [subject, other, user()]);
    const now = Date.UTC(2026, 10, 20);
    expect([...states.keys()].sort()).toEqual([subject, other].sort());
    expect(userFeatures(states.get(subject)!, now)).toEqual(userFeatures(featureDeltas(events).get(subject)!, now));
    expect(userFeatures(states.get(subject)!, now)).toMatchObject({
      completionRate: 0.5,
      sessionDurationSec: 360,
      assessments: { 'PHQ-9': { baseline: 18, latest: 11, change: -7 } },
      daysActive: 5,
      choiceResponseMs: 1200,
      interventionCompletionRate: 1,
    });
    // A fit put both in an archetype: the erasure takes the subject's assignment, not the other's.
    const archetype = { id: `archetype-${subject}`, kind: 'archetype' as const, name: 'steady', users: 2, share: 1, confidence: 1, profile: { sessionsPerWeek: 1, sessionsPerWeekTrend: 0, weeklyVariability: 0, completionRate: 0.5 } };
    const fit = { model: { version: `fit-${subject}`, trainedAt: new Date(now).toISOString(), users: 2, k: 1, silhouette: null }, patterns: [archetype] };
    await new SqlPatternStore(db).save(fit, new Map([subject, other].map((who) => [signedSubjectHash(who), archetype.id])));
    const assigned = async () => (await db.query<{ n: number }>('SELECT count(*)::int4 AS n FROM user_pattern_assignments WHERE version = $1', [fit.model.version])).rows[0]!.n;
    expect(await assigned()).toBe(2);

    expect(await store.eraseSubject(subject, new Date(now))).toMatchObject({ featureRows: 1, patternAssignments: 1 });
    expect([...(await readFeatureStates(db, [subject, other])).keys()]).toEqual([other]);
    expect(await assigned()).toBe(1);
  });

  it("keeps a user's features whole when two instances, each holding the states it wrote, take turns on them, and holds none past an erasure", async () => {
    const a = new SqlRollupStore(db);
    const b = new SqlRollupStore(await another());
    const [subject, other] = [user(), user()];
    // January 2027: days no other test of this store counts.
    const at = (day: number) => new Date(Date.UTC(2027, 0, day, 9)).toISOString();
    const ended = (who: string, day: number, durationSec: number) => event('session.ended', { scenarioId: 'lake', durationSec, completed: day % 2 === 0 }, who, at(day), 'ios');
    const before = [ended(subject, 1, 100), ended(other, 1, 50), ended(subject, 2, 200), ended(subject, 3, 300), ended(other, 3, 60)];
    // A writes both users, B adds to them (A's held states are then stale), A adds again.
    for (const [who, batch] of [[a, before.slice(0, 2)], [b, before.slice(2, 3)], [a, before.slice(3)]] as const) await who.applyEvents(batch);
    const now = Date.UTC(2027, 0, 20);
    const stored = async () => readFeatureStates(db, [subject, other]);
    expect(userFeatures((await stored()).get(subject)!, now)).toEqual(userFeatures(featureDeltas(before).get(subject)!, now));
    expect(userFeatures((await stored()).get(other)!, now)).toEqual(userFeatures(featureDeltas(before).get(other)!, now));

    // B erases the subject; A still holds the state it wrote, and must not write it back.
    await b.eraseSubject(subject, new Date(at(4)));
    const after = [ended(subject, 5, 500), ended(other, 5, 70)];
    await a.applyEvents(after);
    expect(userFeatures((await stored()).get(subject)!, now)).toEqual(userFeatures(featureDeltas(after).get(subject)!, now));
    expect(userFeatures((await stored()).get(other)!, now)).toEqual(userFeatures(featureDeltas([...before, ...after]).get(other)!, now));
  });

  it('keeps the same features whatever room it has to hold states', async () => {
    const [small, large] = await Promise.all([open(), open()]);
    try {
      await Promise.all([migrate(small.db, 'product', ROLLUP_MIGRATIONS), migrate(large.db, 'product', ROLLUP_MIGRATIONS)]);
      const [bounded, roomy] = [new FeatureStateWriter(4 * 1024), new FeatureStateWriter()];
      const people = Array.from({ length: 40 }, user);
      const at = (i: number) => new Date(Date.UTC(2026, 11, 1 + (i % 20), 8 + (i % 9))).toISOString();
      const moods = Array.from({ length: 600 }, (_, i) => event('mood.reported', { valence: ((i % 21) - 10) / 10, arousal: 0.5 }, people[(i * 7) % 40]!, at(i), 'web'));
      for (let i = 0; i < moods.length; i += 50) {
        await bounded.apply(small.db, moods.slice(i, i + 50), i + 1);
        await roomy.apply(large.db, moods.slice(i, i + 50), i + 1);
        expect(bounded.held().bytes).toBeLessThanOrEqual(4 * 1024);
      }
      expect(roomy.held().states).toBe(40);
      expect(bounded.held().states).toBeLessThan(40);
      const now = Date.UTC(2026, 11, 25);
      const features = async (target: SqlDatabase) => [...(await readFeatureStates(target, people))].map(([who, state]) => [who, userFeatures(state, now)]).sort();
      expect(await features(small.db)).toEqual(await features(large.db));
      // Against the states of all events at once, to six digits: sums taken in another order differ in the last bits.
      const sixDigits = (value: unknown) => JSON.parse(JSON.stringify(value, (_, x: unknown) => (typeof x === 'number' ? (Math.abs(x) < 1e-9 ? 0 : Number(x.toPrecision(6))) : x))) as unknown;
      expect(sixDigits(await features(small.db))).toEqual(sixDigits(people.map((who) => [who, userFeatures(featureDeltas(moods).get(who)!, now)]).sort()));
    } finally {
      await Promise.all([small.close(), large.close()]);
    }
  });

  it("erases a subject's event ids, drops its events received before the erasure and takes those received after", async () => {
    const subject = user();
    const at = '2026-11-21T09:00:00.000Z';
    const earlier: StoredEvent = { ...event('mood.reported', { valence: 0.1, arousal: 0.5 }, subject, at, 'web'), research: true };
    const research = async () => (await db.query<{ n: number }>('SELECT count(*)::int4 AS n FROM research_values WHERE event_id = $1', [earlier.eventId])).rows[0]!.n;
    expect(await store.applyEvents([earlier])).toEqual({ applied: 1, duplicates: 0, fresh: [earlier] });
    const ids = async () => (await db.query<{ n: number }>('SELECT count(*)::int4 AS n FROM rollup_event_ids WHERE position(uuid_send($1::uuid) IN ids) > 0', [earlier.eventId])).rows[0]!.n;
    expect([await ids(), await research()]).toEqual([1, 2]);

    const erasedAt = new Date('2026-11-21T09:30:00.000Z');
    expect(await store.eraseSubject(subject, erasedAt)).toEqual({ eventIds: 1, researchValues: 2, featureRows: 1, patternAssignments: 0 });
    const replayed = await store.applyEvents([earlier, { ...earlier, eventId: randomUUID() }]);
    const afterwards = await store.applyEvents([{ ...event('mood.reported', { valence: 0.2, arousal: 0.5 }, subject, at, 'web'), receivedAt: '2026-11-21T09:31:00.000Z' }]);

    expect([await ids(), await research()]).toEqual([0, 0]);
    expect(replayed).toEqual({ applied: 0, duplicates: 2, fresh: [] });
    expect(afterwards).toMatchObject({ applied: 1, duplicates: 0 });
    expect(afterwards.fresh).toHaveLength(1);
    expect(await store.eraseSubject(user(), erasedAt)).toEqual({ eventIds: 0, researchValues: 0, featureRows: 0, patternAssignments: 0 });
  });

  it('keeps every figure of rows written before the move to partitions and the roll-up, and adds to them after it', async () => {
    const [earlier, current] = await Promise.all([open(), open()]);
    try {
      await migrate(earlier.db, 'product', ROLLUP_MIGRATIONS.filter((m) => m.name === '001-rollups.sql'));
      const before = all.slice(0, 1_000);
      await writeFirstSchemaRows(earlier.db, before);
      expect(await migrate(earlier.db, 'product', ROLLUP_MIGRATIONS)).toEqual(expect.arrayContaining(['002-rollups-by-interval.sql', '003-roll-up-watermark.sql']));
      const moved = new SqlRollupStore(earlier.db);
      const queries = [
        { metric: 'mood.valence', ...day, interval: 'hour', groupBy: 'platform' },
        { metric: 'events', ...day, interval: 'day', groupBy: 'platform,type' },
        { metric: 'active_users', ...day, interval: 'hour', groupBy: 'platform' },
        { metric: 'choice.response_time', from: '2026-11-20T10:00:00Z', to: '2026-11-20T10:10:00Z', interval: 'minute', groupBy: 'choiceType' },
      ];
      // k - 1 shows every group, so every figure is compared.
      const answers = (target: RollupReader) => Promise.all(queries.map(async (q) => sumsToTwelveDigits(await queryMetric(target, q, { k: K - 1 }))));
      // `moved` gets the rest of the events after the migration, through the new write path: the
      // watermark stands after the last stored minute, so the moods and choices of those minutes
      // go into the hour and day rows the migrations moved, and the Android moods (10:30) into
      // minute rows only. The reference gets every event into minute rows.
      await migrate(current.db, 'product', ROLLUP_MIGRATIONS);
      const reference = new SqlRollupStore(current.db);
      await reference.applyEvents(all);
      await moved.applyEvents(all.slice(1_000));
      const expected = await answers(reference);
      expect(expected.map((answer) => answer.series.length)).toEqual([2, 3, 2, 2]);
      expect(await answers(moved)).toEqual(expected);
      // And once both are rolled up.
      for (const store of [moved, reference]) await rollUpAll(store, '2026-11-21T00:00:00Z');
      expect(await answers(moved)).toEqual(expected);
      expect(await answers(reference)).toEqual(expected);
    } finally {
      await Promise.all([earlier.close(), current.close()]);
    }
  });

  it('keeps its row cache within the bytes it is given, answering as a store with room for every row', async () => {
    const [small, large] = await Promise.all([open(), open()]);
    try {
      await Promise.all([migrate(small.db, 'product', ROLLUP_MIGRATIONS), migrate(large.db, 'product', ROLLUP_MIGRATIONS)]);
      const bound = 64 * 1024;
      const bounded = new SqlRollupStore(small.db, { cacheBytes: bound });
      const roomy = new SqlRollupStore(large.db);
      for (let i = 0; i < all.length; i += 100) {
        await Promise.all([bounded.applyEvents(all.slice(i, i + 100)), roomy.applyEvents(all.slice(i, i + 100))]);
        expect(bounded.cached().bytes).toBeLessThanOrEqual(bound);
      }
      for (const target of [bounded, roomy]) await rollUpAll(target, '2026-11-21T00:00:00Z');
      expect(bounded.cached().bytes).toBeLessThanOrEqual(bound);
      expect(bounded.cached().rows).toBeGreaterThan(0);
      // The 10:05 choices' 1,200 users, and the hour's and day's, are 16 KiB HyperLogLog sketches:
      // a bound in rows alone (a few hundred here) would hold many times the bytes.
      expect(roomy.cached().bytes).toBeGreaterThan(4 * bound);
      const queries = [
        { metric: 'mood.valence', ...day, interval: 'hour', groupBy: 'platform' },
        { metric: 'active_users', ...day, interval: 'day', groupBy: 'platform' },
        { metric: 'choice.response_time', from: '2026-11-20T10:00:00Z', to: '2026-11-20T10:10:00Z', interval: 'minute', groupBy: 'choiceType' },
      ];
      const answers = (target: RollupReader) => Promise.all(queries.map(async (q) => sumsToTwelveDigits(await queryMetric(target, q, { k: K - 1 }))));
      expect(await answers(bounded)).toEqual(await answers(roomy));
    } finally {
      await Promise.all([small.close(), large.close()]);
    }
  });

  describe('the roll-up', () => {
    // Three hours of traffic on 22 November, a few events the next morning, and events that
    // arrive late for minutes already rolled up. Platforms: 3 users on android (k = 3 shows them),
    // 2 on web (suppressed).
    const people = Array.from({ length: 40 }, user);
    const platformOf = (i: number): string => (i % 20 === 0 ? 'web' : i % 13 === 0 ? 'android' : 'ios');
    const minuteOf = (i: number): string => `2026-11-22T${String(10 + Math.floor(i / 60) % 3).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
    const traffic = (i: number, at: string): StoredEvent => {
      const who = people[i % 40]!;
      const platform = platformOf(i % 40);
      switch (i % 3) {
        case 0:
          return event('mood.reported', { valence: ((i % 21) - 10) / 10, arousal: 0.5 }, who, at, platform);
        case 1:
          return event('session.ended', { scenarioId: i % 2 ? 'forest' : 'lake', durationSec: 30 + (i % 97), completed: i % 4 === 1 }, who, at, platform);
        default:
          return event('choice.made', { scenarioId: 'forest', sceneId: 's', choiceId: 'c', choiceType: 'therapeutic', therapeuticValue: 0.5, responseTimeMs: 300 + i }, who, at, platform);
      }
    };
    const early = Array.from({ length: 540 }, (_, i) => traffic(i, `${minuteOf(i % 90)}:${String(i % 60).padStart(2, '0')}.000Z`));
    const late = Array.from({ length: 60 }, (_, i) => traffic(1_000 + i, `2026-11-22T10:${String(15 + (i % 30)).padStart(2, '0')}:07.000Z`));
    const later = Array.from({ length: 360 }, (_, i) => traffic(2_000 + i, `${minuteOf(90 + (i % 90))}:${String(i % 60).padStart(2, '0')}.000Z`));
    const nextDay = Array.from({ length: 30 }, (_, i) => traffic(3_000 + i, `2026-11-23T09:${String(i).padStart(2, '0')}:00.000Z`));
    const range = { from: '2026-11-22T00:00:00Z', to: '2026-11-24T00:00:00Z' };
    const queries = [
      { metric: 'events', ...range, interval: 'hour', groupBy: 'type' },
      { metric: 'events', ...range, interval: 'day', groupBy: 'platform,type' },
      { metric: 'mood.valence', ...range, interval: 'hour' },
      { metric: 'session.duration', ...range, interval: 'day', groupBy: 'platform' },
      { metric: 'sessions.completed', ...range, interval: 'hour', groupBy: 'scenarioId' },
      { metric: 'active_users', ...range, interval: 'hour', groupBy: 'platform' },
      { metric: 'events', from: '2026-11-22T10:40:00Z', to: '2026-11-22T10:55:00Z', interval: 'minute', groupBy: 'type' },
      // Hours are read a day at a time for the last 64 days of a range, and in one piece before them.
      { metric: 'mood.valence', from: '2026-09-10T00:00:00Z', to: '2026-11-24T00:00:00Z', interval: 'hour', groupBy: 'platform' },
      // Points that sum cells: their sketches come from the packed days, their decisions from the roll-up's.
      { metric: 'events', ...range, interval: 'hour', groupBy: 'type', filter: 'platform:ios,platform:android' },
      { metric: 'mood.valence', ...range, interval: 'day', timeZone: 'America/New_York', groupBy: 'platform' },
      { metric: 'events', ...range, interval: 'week', timeZone: 'America/New_York', groupBy: 'type' },
      { metric: 'session.duration', ...range, interval: 'day', timeZone: 'Europe/London', groupBy: 'platform' },
    ];
    const answers = (target: RollupReader) => Promise.all(queries.map(async (q) => sumsToTwelveDigits(await queryMetric(target, q, { k: 3 }))));
    const batches = (list: readonly StoredEvent[]) => Array.from({ length: Math.ceil(list.length / 100) }, (_, n) => list.slice(n * 100, n * 100 + 100));
    /** A migrated database for the store under test and one for the reference, closed afterwards. */
    async function withTwoDatabases(test: (subject: Awaited<ReturnType<typeof open>>, plain: SqlDatabase) => Promise<void>): Promise<void> {
      const [subject, plain] = await Promise.all([open(), open()]);
      try {
        await Promise.all([migrate(subject.db, 'product', ROLLUP_MIGRATIONS), migrate(plain.db, 'product', ROLLUP_MIGRATIONS)]);
        await test(subject, plain.db);
      } finally {
        await Promise.all([subject.close(), plain.close()]);
      }
    }

    it('changes no answer before, during or after it, late events and replays included', async () => {
      // The reference is never rolled up: every answer of it is summed from minute rows.
      await withTwoDatabases(async (subject, plain) => {
        // Deciding the days it packs for the answers' k, which late events undo with the blocks.
        const store = new SqlRollupStore(subject.db, { k: 3 });
        const reference = new SqlRollupStore(plain);
        const both = async (list: readonly StoredEvent[]) => {
          for (const batch of batches(list)) await Promise.all([store.applyEvents(batch), reference.applyEvents(batch)]);
        };

        await both(early);
        // Part of an hour: the 10:00 rows hold 10:00-10:46, and the rest of the hour is summed from minutes.
        expect(await rollUpAll(store, '2026-11-22T10:47:30Z')).toBe(1);
        expect(await store.rollUp(Date.parse('2026-11-22T10:47:30Z'))).toEqual({ rolledUpTo: Date.parse('2026-11-22T10:47:00Z'), minuteRows: 0, done: true });
        const expected = await answers(reference);
        expect(expected[5]!.suppressed).toEqual([{ reason: 'k_anonymity' }]);
        expect(await answers(store)).toEqual(expected);

        // Late events for 10:15-10:44 go into the hour and day rows as they come; later ones into minutes.
        await both([...late, ...later, ...nextDay]);
        const withLate = await answers(reference);
        expect(withLate).not.toEqual(expected);
        expect(await answers(store)).toEqual(withLate);

        // Two days of minutes, in steps of at most ROLL_UP_SPAN_MS each.
        expect(await rollUpAll(store, '2026-11-24T00:00:00Z')).toBeGreaterThan(1);
        expect(await answers(store)).toEqual(withLate);
        expect(await store.applyEvents(early.slice(0, 100))).toEqual({ applied: 0, duplicates: 100, fresh: [] });
        expect(await answers(store)).toEqual(withLate);

        // Both days are whole before the watermark, so their hours are packed (rollup_hour_blocks).
        // Events late for one of them unpack it: it is read from its rows until the roll-up packs it again.
        const blocksOf = async (day: string) => (await subject.db.query<{ blocks: number }>('SELECT count(*)::int4 AS blocks FROM rollup_hour_blocks WHERE day = $1', [day])).rows[0]!.blocks;
        const packed = await blocksOf('2026-11-22T00:00:00Z');
        expect(packed).toBeGreaterThan(0);
        // Each with its rows' sketches (migrations 019 and 022).
        expect((await subject.db.query<{ n: number }>('SELECT count(*)::int4 AS n FROM rollup_hour_blocks WHERE sketches IS NULL')).rows[0]!.n).toBe(0);
        expect(await blocksOf('2026-11-23T00:00:00Z')).toBeGreaterThan(0);
        await both(Array.from({ length: 30 }, (_, i) => traffic(4_000 + i, `2026-11-22T11:${String(i).padStart(2, '0')}:30.000Z`)));
        expect(await blocksOf('2026-11-22T00:00:00Z')).toBeLessThan(packed);
        const withLatePacked = await answers(reference);
        expect(withLatePacked).not.toEqual(withLate);
        expect(await answers(store)).toEqual(withLatePacked);
        await rollUpAll(store, '2026-11-24T00:05:00Z');
        expect(await blocksOf('2026-11-22T00:00:00Z')).toBe(packed);
        expect(await answers(store)).toEqual(withLatePacked);
        // A selection that cuts packed days reads the cut parts from their rows, as the whole days hold them.
        const days = { metric: 'events', interval: 'hour' as const, grouping: 'type', from: Date.parse('2026-11-22T00:00:00Z'), to: Date.parse('2026-11-24T00:00:00Z'), values: false };
        const cut = { ...days, from: Date.parse('2026-11-22T11:00:00Z'), to: Date.parse('2026-11-23T09:00:00Z') };
        const whole = await store.readSeries(days);
        // Both cut days have rows on either side of the cut.
        expect([10, 11, 33].map((hour) => whole.some((row) => row.bucket === days.from + hour * 3_600_000))).toEqual([true, true, true]);
        expect(await store.readSeries(cut)).toEqual(whole.filter((row) => row.bucket >= cut.from && row.bucket < cut.to));
      });
    });

    it('folds in steps of at most the row bound, whole minutes each', async () => {
      await withTwoDatabases(async (subject, plain) => {
        const store = new SqlRollupStore(subject.db, { rollUpStepRows: 60 });
        const reference = new SqlRollupStore(plain);
        for (const batch of batches([...early, ...later])) await Promise.all([store.applyEvents(batch), reference.applyEvents(batch)]);
        const steps: RollUpStep[] = [];
        do steps.push(await store.rollUp(Date.parse('2026-11-22T13:00:00Z')));
        while (!steps.at(-1)!.done);
        const folded = steps.reduce((n, step) => n + step.minuteRows, 0);
        expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(folded / 60));
        // A step stops before the minute that would take it over the bound.
        expect(Math.max(...steps.map((step) => step.minuteRows))).toBeLessThanOrEqual(60);
        expect(steps.map((step) => step.rolledUpTo % 60_000)).toEqual(steps.map(() => 0));
        expect(await answers(store)).toEqual(await answers(reference));
      });
    });

    it('writes no minute rows past their retention for minutes the roll-up has passed, answering hours and days as a store that writes them', async () => {
      await withTwoDatabases(async (subject, plain) => {
        // Minute rows are kept from 23 November on; the reference keeps every minute row.
        const kept = Date.parse('2026-11-23T00:00:00Z');
        const store = new SqlRollupStore(subject.db, { k: 3, minutesKeptFrom: () => kept });
        const reference = new SqlRollupStore(plain);
        const both = async (list: readonly StoredEvent[]) => {
          for (const batch of batches(list)) await Promise.all([store.applyEvents(batch), reference.applyEvents(batch)]);
        };
        const minuteRowsBeforeKept = async (db: SqlDatabase) =>
          (await db.query<{ n: number }>(`SELECT count(*)::int4 AS n FROM rollups WHERE interval = 'minute' AND bucket < $1`, [new Date(kept)])).rows[0]!.n;

        // Minutes the roll-up has not passed keep their rows, whatever their age: it folds them later.
        await both(early);
        const unfolded = await minuteRowsBeforeKept(subject.db);
        expect(unfolded).toBe(await minuteRowsBeforeKept(plain));
        await rollUpAll(store, '2026-11-23T12:00:00Z');
        // History of the 22nd, now passed and past retention: hours and days only. The 23rd's keep their minutes.
        await both([...late, ...later, ...nextDay]);
        expect(await minuteRowsBeforeKept(subject.db)).toBe(unfolded);
        expect(await minuteRowsBeforeKept(plain)).toBeGreaterThan(unfolded);
        const minuteQuery = (q: (typeof queries)[number]) => q.interval === 'minute';
        const [ours, theirs] = await Promise.all([answers(store), answers(reference)]);
        expect(ours.filter((_, i) => !minuteQuery(queries[i]!))).toEqual(theirs.filter((_, i) => !minuteQuery(queries[i]!)));
        const nextMorning = { metric: 'events', from: '2026-11-23T09:00:00Z', to: '2026-11-23T10:00:00Z', interval: 'minute', groupBy: 'type' };
        expect(await queryMetric(store, nextMorning, { k: 3 })).toEqual(await queryMetric(reference, nextMorning, { k: 3 }));
      });
    });

    it('counts every event once when the roll-up runs in another instance while batches are applied', async () => {
      await withTwoDatabases(async (subject, plain) => {
        const writer = new SqlRollupStore(subject.db);
        const roller = new SqlRollupStore(await subject.another());
        const reference = new SqlRollupStore(plain);
        const all = [...early, ...later, ...late, ...nextDay];
        for (const batch of batches(all)) await reference.applyEvents(batch);
        // The roll-up chases the batches minute by minute through the three hours, then passes them.
        const stops = Array.from({ length: 12 }, (_, i) => `2026-11-22T${String(10 + Math.floor(i / 4)).padStart(2, '0')}:${String((i % 4) * 15).padStart(2, '0')}:00Z`);
        await Promise.all([
          (async () => {
            for (const batch of batches(all)) await writer.applyEvents(batch);
          })(),
          (async () => {
            for (const until of stops) await rollUpAll(roller, until);
          })(),
        ]);
        await rollUpAll(roller, '2026-11-24T00:00:00Z');
        expect(await answers(writer)).toEqual(await answers(reference));
      });
    });
  });

  describe('local days, weeks and months', () => {
    // 60 users send moods every 37 minutes (no hour is aligned with another's events) through
    // London's and New York's clock changes of 2026; valences never 0, so 1 % of one is a margin.
    const users = Array.from({ length: 60 }, user);
    const windows = [['2026-03-06T00:00:00Z', '2026-04-02T00:00:00Z'], ['2026-10-23T00:00:00Z', '2026-11-03T00:00:00Z']] as const;
    const moods = windows.flatMap(([from, to]) =>
      Array.from({ length: Math.floor((Date.parse(to) - Date.parse(from)) / 2_220_000) }, (_, i) => {
        const at = new Date(Date.parse(from) + i * 2_220_000).toISOString();
        return event('mood.reported', { valence: ((i * 37) % 18) / 10 - 0.85, arousal: 0.5 }, users[(i * 7) % users.length]!, at, i % 3 ? 'ios' : 'android');
      }),
    );
    let local: { store: RollupStore; close: () => Promise<void> };

    beforeAll(async () => {
      const fresh = await open();
      await migrate(fresh.db, 'product', ROLLUP_MIGRATIONS);
      local = { store: new SqlRollupStore(fresh.db), close: fresh.close };
      for (let i = 0; i < moods.length; i += 500) await local.store.applyEvents(moods.slice(i, i + 500));
      // Late October stays in minute rows and started hours and days: read as readSeries reads them.
      await rollUpAll(local.store, '2026-10-26T12:17:00Z');
    });
    afterAll(() => local.close());

    /** The answer computed from the events themselves: per group, per local bucket with events. */
    function reference(params: MetricQueryParams & { from: string; to: string; interval: CalendarUnit }, answer: MetricAnswer) {
      const zone = answer.timeZone;
      const bounds = calendarBounds(Date.parse(params.from), Date.parse(params.to), params.interval, zone);
      const selected = typeof params.filter === 'string' ? params.filter.split(',').map((term) => term.replace('platform:', '')) : ['android', 'ios'];
      const groups = params.groupBy ? selected : [undefined];
      return groups.map((platform) => ({
        group: platform ? { platform } : {},
        points: bounds.slice(1).flatMap((end, i): MetricPoint[] => {
          const inside = moods.filter(
            (m) => Date.parse(m.occurredAt) >= bounds[i]! && Date.parse(m.occurredAt) < end && (platform ? m.context.platform === platform : selected.includes(m.context.platform!)),
          );
          if (inside.length === 0) return [];
          const users = new Set(inside.map((m) => m.subject)).size;
          const t = zone === 'UTC' ? new Date(bounds[i]!).toISOString().replace('.000Z', 'Z') : isoInstantInZone(bounds[i]!, zone);
          if (params.metric === 'active_users') return [{ t, count: users, users }];
          const valences = inside.map((m) => (m.attributes as { valence: number }).valence);
          const sketch = new QuantileSketch();
          for (const valence of valences) sketch.add(valence);
          const sum = valences.reduce((a, b) => a + b, 0);
          return [{ t, count: inside.length, users, sum, mean: sum / inside.length, ...sketch.pointQuantiles() }];
        }),
      }));
    }

    it.each<[string, MetricQueryParams & { from: string; to: string; interval: CalendarUnit }]>([
      // The 23-hour day (29 March) and the 25-hour one (25 October) in London, New York's (8 March, 1 November).
      ['days of mood.valence in Europe/London', { metric: 'mood.valence', from: '2026-03-27T00:00:00Z', to: '2026-04-01T00:00:00Z', interval: 'day', timeZone: 'Europe/London' }],
      ['days of mood.valence in Europe/London by platform', { metric: 'mood.valence', from: '2026-10-23T12:00:00Z', to: '2026-10-28T00:00:00Z', interval: 'day', timeZone: 'Europe/London', groupBy: 'platform' }],
      ['days of mood.valence in America/New_York', { metric: 'mood.valence', from: '2026-03-06T12:00:00Z', to: '2026-03-10T00:00:00Z', interval: 'day', timeZone: 'America/New_York' }],
      ['days of active_users in America/New_York', { metric: 'active_users', from: '2026-10-30T00:00:00Z', to: '2026-11-03T00:00:00Z', interval: 'day', timeZone: 'America/New_York' }],
      ['weeks of mood.valence in Europe/London by platform', { metric: 'mood.valence', from: '2026-03-09T00:00:00Z', to: '2026-04-01T00:00:00Z', interval: 'week', timeZone: 'Europe/London', groupBy: 'platform' }],
      ['weeks of active_users in America/New_York', { metric: 'active_users', from: '2026-10-23T00:00:00Z', to: '2026-11-03T00:00:00Z', interval: 'week', timeZone: 'America/New_York' }],
      ['months of mood.valence in Europe/London', { metric: 'mood.valence', from: '2026-03-01T00:00:00Z', to: '2026-11-01T00:00:00Z', interval: 'month', timeZone: 'Europe/London' }],
      ['months of mood.valence in UTC (the default) by platform', { metric: 'mood.valence', from: '2026-03-01T00:00:00Z', to: '2026-11-03T00:00:00Z', interval: 'month', groupBy: 'platform' }],
      ['weeks of active_users in UTC (the default)', { metric: 'active_users', from: '2026-03-02T00:00:00Z', to: '2026-11-03T00:00:00Z', interval: 'week' }],
      // Filters: a point merges the selected platforms' cells (stored days, local buckets), or selects groups.
      ['days of mood.valence in UTC on android only', { metric: 'mood.valence', from: '2026-10-23T00:00:00Z', to: '2026-10-28T00:00:00Z', interval: 'day', filter: 'platform:android' }],
      ['days of mood.valence in UTC on both platforms', { metric: 'mood.valence', from: '2026-10-23T00:00:00Z', to: '2026-10-28T00:00:00Z', interval: 'day', filter: 'platform:ios,platform:android' }],
      ['days of active_users in America/New_York on ios only', { metric: 'active_users', from: '2026-10-30T00:00:00Z', to: '2026-11-03T00:00:00Z', interval: 'day', timeZone: 'America/New_York', filter: 'platform:ios' }],
      ['weeks of mood.valence in Europe/London by platform, ios only', { metric: 'mood.valence', from: '2026-03-09T00:00:00Z', to: '2026-04-01T00:00:00Z', interval: 'week', timeZone: 'Europe/London', groupBy: 'platform', filter: 'platform:ios' }],
    ])('answers %s as the counts, sums, users and quantiles of their own events', async (_, params) => {
      const answer = await queryMetric(local.store, params, { k: 1 });
      expect(answer.suppressed).toEqual([]);
      const expected = reference(params, answer);
      expect(answer.series.map((s) => s.group)).toEqual(expected.map((s) => s.group));
      // Sums added up in another order differ in the last bits; quantiles are those of one sketch of the bucket's values.
      const figures = (points: readonly MetricPoint[]) => points.map((p) => [p.t, p.count, p.users, ...[p.sum, p.mean, p.p50, p.p95].map((n) => n && Number(n.toPrecision(12)))]);
      expect(answer.series.map((series) => figures(series.points))).toEqual(expected.map((series) => figures(series.points)));
    });

  });

  it('answers local days and weeks across clock changes, and filters of several values, with the decisions the roll-up stored, as it does deciding every cell itself', async () => {
    // 12 users, 8 on ios and 4 on android, from 23 October to 3 November: London's 25-hour day
    // (25 October) and New York's (1 November). Each ios user is active in about four hours of
    // five, each android user every hour but on 28 October, where hour cells of 3 android users
    // are withheld at k = 4 (and their ios siblings with them), so some points are shown and some not.
    const people = Array.from({ length: 12 }, user);
    const hours = (Date.parse('2026-11-03T00:00:00Z') - Date.parse('2026-10-23T00:00:00Z')) / 3_600_000;
    const moods = Array.from({ length: hours }, (_, h) =>
      people.flatMap((who, u) => ((u * 7 + h * 3) % 5 === 0 && (u % 3 !== 0 || Math.floor(h / 24) === 5) ? [] : [event('mood.reported', { valence: ((u + h) % 9) / 10 - 0.35, arousal: 0.5 }, who, new Date(Date.parse('2026-10-23T00:00:00Z') + h * 3_600_000 + u * 60_000).toISOString(), u % 3 ? 'ios' : 'android')])),
    ).flat();
    const fresh = await open();
    try {
      await migrate(fresh.db, 'product', ROLLUP_MIGRATIONS);
      const store = new SqlRollupStore(fresh.db, { k: 4 });
      for (let i = 0; i < moods.length; i += 500) await store.applyEvents(moods.slice(i, i + 500));
      await rollUpAll(store, '2026-11-04T00:00:00Z');
      const decided = await fresh.db.query<{ day: Date }>("SELECT day FROM rollup_hour_blocks WHERE metric = 'mood.valence' AND grouping = 'platform' AND released_k = 4 AND sketches IS NOT NULL");
      expect(decided.rows.map((row) => new Date(row.day).toISOString().slice(0, 10))).toEqual(expect.arrayContaining(['2026-10-24', '2026-10-25', '2026-10-26', '2026-10-31', '2026-11-01', '2026-11-02']));
      // Rows only some of which are used: only their sketches are sent (migration 022), and they
      // are the rows of a whole read that the answer uses.
      const selection = { metric: 'mood.valence', interval: 'hour' as const, grouping: 'platform', from: Date.parse('2026-10-23T00:00:00Z'), to: Date.parse('2026-11-03T00:00:00Z'), values: true };
      const used = (groupKey: string, bucket: number) => groupKey.includes('ios') !== (bucket % (3 * 3_600_000) === 0);
      const figures = (rows: readonly SeriesSketchRow[]) => rows.map((row) => [row.bucket, row.groupKey, row.count, row.sum, row.users.estimate().count, row.quantiles?.pointQuantiles()?.p50]);
      const whole = await store.readSeriesSketches(selection);
      const some = await store.readSeriesSketches(selection, undefined, used);
      expect(some.length).toBeGreaterThan(0);
      expect(some.length).toBeLessThan(whole.length);
      expect(figures(some)).toEqual(figures(whole.filter((row) => used(row.groupKey, row.bucket))));
      // The same store without the stored decisions: every cell decided in memory.
      const undecided: RollupReader = { readSeries: (rows) => store.readSeries(rows), readSeriesSketches: (rows) => store.readSeriesSketches(rows) };
      const range = { from: '2026-10-23T00:00:00Z', to: '2026-11-03T00:00:00Z' };
      const queries: MetricQueryParams[] = [
        { metric: 'mood.valence', ...range, interval: 'day', timeZone: 'Europe/London', groupBy: 'platform' },
        { metric: 'mood.valence', ...range, interval: 'day', timeZone: 'America/New_York', groupBy: 'platform' },
        { metric: 'active_users', ...range, interval: 'week', timeZone: 'America/New_York', groupBy: 'platform' },
        { metric: 'mood.valence', ...range, interval: 'day', timeZone: 'America/New_York', filter: 'platform:ios,platform:android' },
        { metric: 'mood.valence', ...range, interval: 'hour', filter: 'platform:ios,platform:android' },
      ];
      const answers = await Promise.all(queries.map((q) => queryMetric(store, q, { k: 4 })));
      expect(answers).toEqual(await Promise.all(queries.map((q) => queryMetric(undecided, q, { k: 4 }))));
      // Both kinds of decision are compared: every answer shows points, and those that sum 28 October's
      // hours withhold some (London's day and the week sum it as one stored day, which is shown).
      expect(answers.map((answer) => answer.series.some((series) => series.points.length > 0))).toEqual(queries.map(() => true));
      expect(answers.map((answer) => answer.suppressed.length > 0)).toEqual([false, true, false, true, true]);

      // A day packed again between the read of its lines and the read of their sketches, with a
      // line more (a late event of a new platform): its block is sent whole, and the rows are
      // those of the day as it is now.
      const packedDay = async () => (await fresh.db.query<{ packed: string }>("SELECT packed FROM rollup_hour_blocks WHERE metric = 'mood.valence' AND grouping = 'platform' AND day = '2026-10-24T00:00:00Z'")).rows[0]?.packed;
      const linesBefore = await packedDay();
      let beforeSketches: (() => Promise<void>) | undefined = async () => {
        await store.applyEvents([event('mood.reported', { valence: 0.2, arousal: 0.5 }, user(), '2026-10-24T09:10:00.000Z', 'web')]);
        // The late hour unpacks its day; a later roll-up step packs it again.
        await rollUpAll(store, '2026-11-04T02:00:00Z');
      };
      const racing: SqlDatabase = {
        query: (sql, params) => fresh.db.query(sql, params),
        async queryArrays(sql, params) {
          const act = sql.includes('mask, md5') ? beforeSketches : undefined;
          if (act) beforeSketches = undefined;
          await act?.();
          return fresh.db.queryArrays(sql, params);
        },
        exec: (script) => fresh.db.exec(script),
        transaction: (work) => fresh.db.transaction(work),
        close: () => fresh.db.close(),
      };
      const raced = await new SqlRollupStore(racing, { k: 4 }).readSeriesSketches(selection, undefined, used);
      const linesAfter = await packedDay();
      expect(beforeSketches).toBeUndefined();
      expect(linesAfter).toBeDefined();
      expect(linesAfter).not.toEqual(linesBefore);
      expect(raced.some((row) => row.groupKey.includes('web'))).toBe(true);
      expect(figures(raced)).toEqual(figures((await store.readSeriesSketches(selection)).filter((row) => used(row.groupKey, row.bucket))));

      // Handed the decided read of the selection, the sketch read takes the lines that read took
      // (one statement, not two), and a day packed again between the two is still sent whole.
      // The selection starts with two days without events, which have no lines to read.
      const widened = { ...selection, from: Date.parse('2026-10-21T00:00:00Z') };
      const statements: string[] = [];
      let beforeDecidedSketches: (() => Promise<void>) | undefined = async () => {
        await store.applyEvents([event('mood.reported', { valence: -0.1, arousal: 0.5 }, user(), '2026-10-24T15:10:00.000Z', 'web')]);
        await rollUpAll(store, '2026-11-04T03:00:00Z');
      };
      const watched: SqlDatabase = {
        ...racing,
        async queryArrays(sql, params) {
          statements.push(sql);
          const act = sql.includes('mask, md5') ? beforeDecidedSketches : undefined;
          if (act) beforeDecidedSketches = undefined;
          await act?.();
          return fresh.db.queryArrays(sql, params);
        },
      };
      const handed = new SqlRollupStore(watched, { k: 4 });
      const decidedHours = await handed.readDecidedHours(widened, 4);
      expect(decidedHours.rows.some((row) => row.bucket >= Date.parse('2026-10-24T00:00:00Z') && row.bucket < Date.parse('2026-10-25T00:00:00Z'))).toBe(true);
      statements.length = 0;
      const racedAgain = await handed.readSeriesSketches(widened, undefined, used, decidedHours);
      expect(beforeDecidedSketches).toBeUndefined();
      expect(statements).toHaveLength(1);
      expect(await packedDay()).not.toEqual(linesAfter);
      expect(figures(racedAgain)).toEqual(figures((await store.readSeriesSketches(selection)).filter((row) => used(row.groupKey, row.bucket))));
    } finally {
      await fresh.close();
    }
  });

  it('goes on stepping while days wait to be packed or decided and nothing else writes, and for a new k', async () => {
    // Six days of moods written as a history import writes them (past the minutes' retention: hour
    // and day rows only), then rolled up by a store that packs and decides at most two days a step.
    const people = Array.from({ length: 3 }, user);
    const days = ['2026-10-15', '2026-10-16', '2026-10-17', '2026-10-18', '2026-10-19', '2026-10-20'];
    const moods = days.flatMap((day) => people.map((who, u) => event('mood.reported', { valence: u / 10, arousal: 0.5 }, who, `${day}T10:1${u}:00.000Z`, 'ios')));
    const fresh = await open();
    try {
      await migrate(fresh.db, 'product', ROLLUP_MIGRATIONS);
      const importer = new SqlRollupStore(fresh.db, { minutesKeptFrom: () => Date.parse('2026-10-21T00:00:00Z') });
      await rollUpAll(importer, '2026-10-21T12:00:00Z');
      await importer.applyEvents(moods);
      // Each day of each metric the events count in is a day to pack and decide.
      const { rows } = await fresh.db.query<{ days: number }>("SELECT count(*)::int AS days FROM rollups WHERE interval = 'day' AND grouping = ''");
      const steps = Math.ceil(rows[0]!.days / 2) + 1;
      expect(rows[0]!.days).toBeGreaterThanOrEqual(days.length * 2);
      const selection = { metric: 'mood.valence', interval: 'hour' as const, grouping: '', from: Date.parse('2026-10-15T00:00:00Z'), to: Date.parse('2026-10-21T00:00:00Z'), values: true };
      const bounded = (k: number) => new SqlRollupStore(fresh.db, { k, packDaysPerStep: 2, decideDaysPerStep: 2 });

      const store = bounded(2);
      expect((await store.readDecidedHours(selection, 2)).until).toBe(selection.from);
      // Two metric-days packed and decided a step, with no minutes left to fold; the step that finds
      // nothing left is the last.
      expect(await rollUpAll(store, '2026-10-21T12:00:00Z')).toBe(steps);
      expect((await store.readDecidedHours(selection, 2)).until).toBe(selection.to);

      // A runtime started with another k decides the same days again, two a step.
      const another = bounded(3);
      expect(await rollUpAll(another, '2026-10-21T12:00:00Z')).toBe(steps);
      expect((await another.readDecidedHours(selection, 3)).until).toBe(selection.to);
      expect(await another.rollUp(Date.parse('2026-10-21T12:00:00Z'))).toEqual({ rolledUpTo: Date.parse('2026-10-21T12:00:00Z'), minuteRows: 0, done: true });

      // While other writes come between its steps (an import unpacking the days it touches), each
      // step is the run's last, as before: packing them again after every batch would churn.
      const busy = bounded(4);
      const until = Date.parse('2026-10-21T12:00:00Z');
      expect((await busy.rollUp(until)).done).toBe(false);
      await importer.applyEvents([event('mood.reported', { valence: 0.9, arousal: 0.5 }, people[0]!, '2026-10-21T11:59:00.000Z', 'ios')]);
      expect((await busy.rollUp(until)).done).toBe(true);
      expect((await busy.rollUp(until)).done).toBe(false);
      expect(await rollUpAll(busy, '2026-10-21T12:00:00Z')).toBeGreaterThan(1);
      expect((await busy.readDecidedHours(selection, 4)).until).toBe(selection.to);
    } finally {
      await fresh.close();
    }
  });

  it('keeps the decided days it read, and reads a day again once it is packed and decided again', async () => {
    // Three days of two platforms at k = 2: some hour cells released, some withheld.
    const people = Array.from({ length: 3 }, user);
    const moods = ['2026-10-20', '2026-10-21', '2026-10-22'].flatMap((day) => [
      event('mood.reported', { valence: 0.3, arousal: 0.5 }, people[0]!, `${day}T09:20:00.000Z`, 'android'),
      ...[10, 11, 12].flatMap((hour) =>
        people.flatMap((who, u) => ['ios', 'android'].map((platform) => event('mood.reported', { valence: u / 10, arousal: 0.5 }, who, `${day}T${hour}:1${u}:00.000Z`, platform))),
      ),
    ]);
    const fresh = await open();
    try {
      await migrate(fresh.db, 'product', ROLLUP_MIGRATIONS);
      const writer = new SqlRollupStore(fresh.db, { k: 2 });
      await writer.applyEvents(moods);
      await rollUpAll(writer, '2026-10-24T00:00:00Z');
      // Per read of the decided blocks, how many days came with their lines.
      const linesSent: number[] = [];
      const watched: SqlDatabase = {
        query: (sql, params) => fresh.db.query(sql, params),
        async queryArrays<Row extends readonly unknown[]>(sql: string, params?: readonly unknown[]) {
          const result = await fresh.db.queryArrays<Row>(sql, params);
          if (sql.includes('b.version')) linesSent.push(result.rows.filter((row) => row[1] !== null).length);
          return result;
        },
        exec: (script) => fresh.db.exec(script),
        transaction: (work) => fresh.db.transaction(work),
        close: () => fresh.db.close(),
      };
      const store = new SqlRollupStore(watched, { k: 2 });
      const selection = { metric: 'mood.valence', interval: 'hour' as const, grouping: 'platform', from: Date.parse('2026-10-20T00:00:00Z'), to: Date.parse('2026-10-23T00:00:00Z'), values: true };
      const first = await store.readDecidedHours(selection, 2);
      expect(first.until).toBe(selection.to);
      expect([...first.released]).toContain(0);
      expect([...first.released]).toContain(1);
      expect(await store.readDecidedHours(selection, 2)).toEqual(first);
      expect(linesSent).toEqual([3, 0]);

      // A late event of a new platform on 21 October: the day is packed and decided again, and sent again alone.
      await writer.applyEvents([event('mood.reported', { valence: 0.5, arousal: 0.5 }, people[1]!, '2026-10-21T11:10:00.000Z', 'web')]);
      await rollUpAll(writer, '2026-10-24T01:00:00Z');
      const again = await store.readDecidedHours(selection, 2);
      expect(linesSent).toEqual([3, 0, 1]);
      expect(again.rows).toHaveLength(first.rows.length + 1);
      expect(again).toEqual(await new SqlRollupStore(fresh.db, { k: 2 }).readDecidedHours(selection, 2));
    } finally {
      await fresh.close();
    }
  });

  it('purges event ids, minute rows and hour rows past their cutoffs, keeping unfolded minutes and every day row', async () => {
    const fresh = await open();
    try {
      await migrate(fresh.db, 'product', ROLLUP_MIGRATIONS);
      const store = new SqlRollupStore(fresh.db);
      const mood = (at: string) => event('mood.reported', { valence: 0.5, arousal: 0.5 }, user(), at, 'ios');
      const old = mood('2026-10-01T10:00:00.000Z');
      const unfolded = mood('2026-10-05T10:00:00.000Z');
      const recent = mood('2026-11-20T10:00:00.000Z');
      await store.applyEvents([old]);
      await rollUpAll(store, '2026-10-03T00:00:00Z');
      await store.applyEvents([unfolded, recent]);
      const count = async (from: string, to: string, interval: string) =>
        (await queryMetric(store, { metric: 'mood.valence', from, to, interval }, { k: 1 })).series.flatMap((s) => s.points).reduce((n, p) => n + p.count, 0);
      const figures = () =>
        Promise.all([
          count('2026-10-01T10:00:00Z', '2026-10-01T11:00:00Z', 'minute'),
          count('2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', 'hour'),
          count('2026-10-01T00:00:00Z', '2026-10-02T00:00:00Z', 'day'),
          count('2026-10-05T10:00:00Z', '2026-10-05T11:00:00Z', 'minute'),
          count('2026-10-05T00:00:00Z', '2026-10-06T00:00:00Z', 'hour'),
          count('2026-11-20T10:00:00Z', '2026-11-20T11:00:00Z', 'minute'),
        ]);
      expect(await figures()).toEqual([1, 1, 1, 1, 1, 1]);

      // Ids processed within the last day are kept by a cutoff a day ago.
      const keepIds = { idempotencyKeys: Date.now() - 86_400_000, minuteRollups: Date.parse('2026-11-01T00:00:00Z'), hourRollups: Date.parse('2026-10-02T00:00:00Z') };
      // Minute rows before 1 November go but for 5 October's, which the roll-up has not folded;
      // hour rows before 2 October go; the day rows stay. (A mood feeds two metrics: `events`, a
      // minute row and four hour rows, and `mood.valence`, a minute row and two hour rows.)
      expect(await store.purge(keepIds)).toEqual({ idempotencyKeys: 0, minuteRows: 2, hourRows: 6 });
      expect(await figures()).toEqual([0, 0, 1, 1, 1, 1]);
      expect(await store.applyEvents([recent])).toEqual({ applied: 0, duplicates: 1, fresh: [] });

      // Past their retention, ids are forgotten: the same event would now count again.
      expect((await store.purge({ ...keepIds, idempotencyKeys: Date.now() + 60_000 })).idempotencyKeys).toBe(3);
      expect(await store.applyEvents([recent])).toEqual({ applied: 1, duplicates: 0, fresh: [recent] });
    } finally {
      await fresh.close();
    }
  });

  it("keeps the users later batches add to a minute row beside it, at most MINUTE_USER_PARTS of them, folds them in once the minute has passed, and purges what is left with the row", async () => {
    const fresh = await open();
    try {
      await migrate(fresh.db, 'product', ROLLUP_MIGRATIONS);
      const a = new SqlRollupStore(fresh.db);
      const b = new SqlRollupStore(await fresh.another());
      const people = Array.from({ length: 400 }, user);
      const mood = (who: string, at: string) => event('mood.reported', { valence: 0.5, arousal: 0.5 }, who, at, 'ios');
      // What each minute holds: its events and its users.
      const sent = new Map<string, { count: number; users: Set<string> }>();
      const send = async (store: SqlRollupStore, batch: StoredEvent[]) => {
        for (const e of batch) {
          const minute = sent.get(e.occurredAt.slice(11, 16)) ?? { count: 0, users: new Set<string>() };
          minute.count++;
          sent.set(e.occurredAt.slice(11, 16), minute.users.add(e.subject) && minute);
        }
        await store.applyEvents(batch);
      };
      const truth = () => {
        const minutes = [...sent.entries()].sort(([x], [y]) => x.localeCompare(y));
        const everyone = new Set(minutes.flatMap(([, m]) => [...m.users]));
        return [minutes.map(([t, m]) => [t, m.count, m.users.size]), [[minutes.reduce((n, [, m]) => n + m.count, 0), everyone.size]]];
      };
      const answers = async (store: SqlRollupStore) => {
        const range = { from: '2026-12-03T09:00:00Z', to: '2026-12-03T10:00:00Z' };
        const minutes = await queryMetric(store, { metric: 'mood.valence', ...range, interval: 'minute' }, { k: 1 });
        const hour = await queryMetric(store, { metric: 'mood.valence', ...range, interval: 'hour' }, { k: 1 });
        return [minutes.series[0]!.points.map((p) => [p.t.slice(11, 16), p.count, p.users]), hour.series[0]!.points.map((p) => [p.count, p.users])];
      };
      // The row's parts, by what the row says and by what is kept beside it.
      const parts = async (minute: string) => {
        const { rows } = await fresh.db.query<{ user_parts: number; kept: number }>(
          `SELECT r.user_parts, (SELECT count(*) FROM rollup_minute_users p WHERE p.metric = r.metric AND p.grouping = r.grouping AND p.bucket = r.bucket AND p.group_key = r.group_key)::int4 AS kept
           FROM rollups r WHERE r.metric = 'mood.valence' AND r.interval = 'minute' AND r.bucket = $1::timestamptz`,
          [minute],
        );
        return [rows[0]!.user_parts, rows[0]!.kept];
      };

      // 100 users open the minute (a row written whole), then each batch brings 10 more and 10 seen.
      const at = '2026-12-03T09:00:30.000Z';
      await send(a, people.slice(0, 100).map((p) => mood(p, at)));
      expect(await parts('2026-12-03T09:00:00Z')).toEqual([0, 0]);
      const batch = (n: number) => [...people.slice(100 + 10 * n, 110 + 10 * n), ...people.slice(5 * n, 5 * n + 10)].map((p) => mood(p, at));
      for (let n = 0; n < MINUTE_USER_PARTS; n++) await send(a, batch(n));
      expect(await parts('2026-12-03T09:00:00Z')).toEqual([MINUTE_USER_PARTS, MINUTE_USER_PARTS]);
      expect(await answers(a)).toEqual(truth());
      // At the bound the sketch is written whole with every part in it; the next batch starts again.
      await send(a, batch(MINUTE_USER_PARTS));
      expect(await parts('2026-12-03T09:00:00Z')).toEqual([0, 0]);
      await send(a, batch(MINUTE_USER_PARTS + 1));
      expect(await parts('2026-12-03T09:00:00Z')).toEqual([1, 1]);
      // Another instance reads the row with its part, adds its own, and the first reads both.
      await send(b, batch(MINUTE_USER_PARTS + 2));
      expect(await parts('2026-12-03T09:00:00Z')).toEqual([2, 2]);
      await send(a, batch(MINUTE_USER_PARTS + 3));
      expect(await parts('2026-12-03T09:00:00Z')).toEqual([3, 3]);
      expect(await answers(b)).toEqual(truth());

      // A batch that reaches the next minute writes this one's row whole; the next minute's row,
      // last added to by a part, keeps it.
      await send(b, [...batch(MINUTE_USER_PARTS + 4), ...people.slice(0, 100).map((p) => mood(p, '2026-12-03T09:01:10.000Z'))]);
      await send(b, people.slice(100, 200).map((p) => mood(p, '2026-12-03T09:01:20.000Z')));
      expect([await parts('2026-12-03T09:00:00Z'), await parts('2026-12-03T09:01:00Z')]).toEqual([[0, 0], [1, 1]]);
      expect(await answers(a)).toEqual(truth());

      // The roll-up folds the parts in with their row; the purge deletes them with it.
      await rollUpAll(a, '2026-12-03T10:00:00Z');
      expect(await answers(b)).toEqual(truth());
      await a.purge({ idempotencyKeys: 0, minuteRollups: Date.parse('2026-12-03T09:02:00Z'), hourRollups: 0 });
      expect((await fresh.db.query<{ n: number }>('SELECT count(*)::int4 AS n FROM rollup_minute_users')).rows[0]!.n).toBe(0);
      expect((await queryMetric(a, { metric: 'mood.valence', from: '2026-12-03T09:00:00Z', to: '2026-12-03T10:00:00Z', interval: 'hour' }, { k: 1 })).series[0]!.points.map((p) => [p.count, p.users])).toEqual(truth()[1]);
    } finally {
      await fresh.close();
    }
  });

  it('counts an event its user sends again once, whichever instance takes it and however few id lists it holds; the same id from another user counts', async () => {
    const holdsNothing = new SqlRollupStore(db, { eventIdCacheBytes: 1 });
    const other = new SqlRollupStore(await another());
    const [person, stranger] = [user(), user()];
    const mood = (at: string) => event('mood.reported', { valence: 0.3, arousal: 0.5 }, person, at, 'ios');
    const [monday, tuesday, later] = [mood('2026-12-07T23:59:59.000Z'), mood('2026-12-08T00:00:00.000Z'), mood('2026-12-08T09:00:00.000Z')];
    expect(await holdsNothing.applyEvents([monday, tuesday])).toMatchObject({ applied: 2, duplicates: 0 });
    // The app sends Monday's again (a timeout), received later, in the other instance's batch.
    const resent = { ...monday, receivedAt: '2026-12-08T10:00:00.000Z' };
    expect(await other.applyEvents([resent, later])).toEqual({ applied: 1, duplicates: 1, fresh: [later] });
    expect(await holdsNothing.applyEvents([later, tuesday, resent])).toEqual({ applied: 0, duplicates: 3, fresh: [] });
    expect(await other.applyEvents([tuesday])).toEqual({ applied: 0, duplicates: 1, fresh: [] });
    // Another user's event with the same id is another event: one user cannot silence another's.
    const borrowed = { ...event('mood.reported', { valence: -0.3, arousal: 0.5 }, stranger, monday.occurredAt, 'web'), eventId: monday.eventId };
    expect(await other.applyEvents([borrowed])).toEqual({ applied: 1, duplicates: 0, fresh: [borrowed] });
    const answer = await queryMetric(other, { metric: 'mood.valence', from: '2026-12-07T00:00:00Z', to: '2026-12-09T00:00:00Z', interval: 'day' }, { k: 1 });
    expect(answer.series[0]!.points.map((p) => [p.t, p.count, p.users])).toEqual([
      ['2026-12-07T00:00:00Z', 2, 2],
      ['2026-12-08T00:00:00Z', 2, 1],
    ]);
  });

  it("drops a user's events when another instance erases the user while the batch waits for the writer lock", async () => {
    const person = user();
    const other = await another();
    const mood = event('mood.reported', { valence: 0.4, arousal: 0.5 }, person, '2026-12-09T08:00:00.000Z', 'ios');
    let locked!: () => void;
    let release!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    // The erasure's transaction as eraseSubject runs it, held open between its tombstone and its commit.
    const erasing = other.transaction(async (tx) => {
      await tx.query('UPDATE rollup_writer SET seq = seq + 1');
      await tx.query("INSERT INTO erased_subjects (subject_hash, erased_at) VALUES ($1, '2026-12-09T09:00:00Z')", [signedSubjectHash(person)]);
      locked();
      await released;
    });
    await lockTaken;
    const applying = store.applyEvents([mood]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await erasing;
    expect(await applying).toEqual({ applied: 0, duplicates: 1, fresh: [] });
  });

  it('counts once the events whose ids were recorded before the lists by day, until their retention ends', async () => {
    const earlier = await open();
    try {
      await migrate(earlier.db, 'product', ROLLUP_MIGRATIONS.filter((m) => m.name < '032'));
      const before = Array.from({ length: 3 }, () => event('mood.reported', { valence: 0.1, arousal: 0.5 }, user(), '2026-12-01T08:00:00.000Z', 'web'));
      // As the aggregate recorded them then: one row per event id, with its subject's hash.
      for (const recorded of before) await earlier.db.query('INSERT INTO rollup_processed_events (event_id, subject_hash) VALUES ($1, $2)', [recorded.eventId, signedSubjectHash(recorded.subject)]);
      expect(await migrate(earlier.db, 'product', ROLLUP_MIGRATIONS)).toContain('032-event-ids-by-user-day.sql');
      const upgraded = new SqlRollupStore(earlier.db);
      const next = event('mood.reported', { valence: 0.1, arousal: 0.5 }, before[0]!.subject, '2026-12-01T08:00:00.000Z', 'web');
      expect(await upgraded.applyEvents([...before, next])).toEqual({ applied: 1, duplicates: 3, fresh: [next] });
      expect(await new SqlRollupStore(earlier.db).applyEvents([before[1]!])).toEqual({ applied: 0, duplicates: 1, fresh: [] });
      // Kept as long as ids are: a purge within their retention keeps them, one past it takes them.
      const cutoffs = { minuteRollups: 0, hourRollups: 0 };
      expect(await upgraded.purge({ ...cutoffs, idempotencyKeys: Date.now() - 86_400_000 })).toMatchObject({ idempotencyKeys: 0 });
      expect(await upgraded.applyEvents([before[2]!])).toMatchObject({ applied: 0 });
      expect(await upgraded.purge({ ...cutoffs, idempotencyKeys: Date.now() + 60_000 })).toMatchObject({ idempotencyKeys: 4 });
      expect(await upgraded.applyEvents([before[2]!])).toEqual({ applied: 1, duplicates: 0, fresh: [before[2]] });
    } finally {
      await earlier.close();
    }
  });

  it('counts every event once when two instances, each with its own row cache, interleave on the same rows', async () => {
    // Two stores are two Lambda instances: each caches the rows it wrote, and must see the
    // other's writes (the version check) or it would write back a stale count or users sketch.
    const a = new SqlRollupStore(db);
    const b = new SqlRollupStore(await another());
    const people = Array.from({ length: 300 }, user);
    const at = (i: number): string => `2026-12-01T08:0${i % 3}:${String(i % 60).padStart(2, '0')}.000Z`;
    const platformOf = (i: number): string => (i % 3 === 0 ? 'web' : 'ios');
    const moods = Array.from({ length: 1_500 }, (_, i) =>
      event('mood.reported', { valence: ((i % 21) - 10) / 10, arousal: 0.5 }, people[(i * 7 + Math.floor(i / 300)) % 300]!, at(i), platformOf(i)),
    );
    const batch = (n: number): StoredEvent[] => moods.slice(n * 100, n * 100 + 100);
    // A alone (its cache trusted), B in between (A must re-read what B changed), both at once.
    for (const [who, n] of [[a, 0], [a, 1], [b, 2], [a, 3], [b, 4], [b, 5], [a, 6], [b, 7], [a, 8]] as const) await who.applyEvents(batch(n));
    await Promise.all([a.applyEvents(batch(9)), b.applyEvents(batch(10)), a.applyEvents(batch(11)), b.applyEvents(batch(12))]);
    // A replay through the other instance changes nothing.
    expect(await b.applyEvents(batch(8))).toEqual({ applied: 0, duplicates: 100, fresh: [] });
    await a.applyEvents(batch(13));
    await b.applyEvents(batch(14));

    const expected = new Map<string, { count: number; users: Set<string> }>();
    moods.forEach((mood, i) => {
      for (const key of [platformOf(i), `minute ${at(i).slice(0, 16)}`]) {
        const entry = expected.get(key) ?? { count: 0, users: new Set<string>() };
        entry.count++;
        entry.users.add(mood.subject);
        expected.set(key, entry);
      }
    });
    const range = { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' };
    for (const interval of ['hour', 'day'] as const) {
      const answer = await queryMetric(b, { metric: 'events', ...range, interval, groupBy: 'platform' }, { k: 1 });
      expect(answer.series.map((s) => [s.group.platform, s.points.map((p) => [p.count, p.users])])).toEqual(
        ['ios', 'web'].map((platform) => [platform, [[expected.get(platform)!.count, expected.get(platform)!.users.size]]]),
      );
    }
    const minutes = await queryMetric(a, { metric: 'mood.valence', ...range, interval: 'minute' }, { k: 1 });
    expect(minutes.series[0]!.points.map((p) => [p.t.slice(0, 16), p.count, p.users, p.sum])).toEqual(
      ['2026-12-01T08:00', '2026-12-01T08:01', '2026-12-01T08:02'].map((t) => {
        const values = moods.filter((m) => m.occurredAt.startsWith(t)).map((m) => (m.attributes as { valence: number }).valence);
        return [t, expected.get(`minute ${t}`)!.count, expected.get(`minute ${t}`)!.users.size, expect.closeTo(values.reduce((x, y) => x + y, 0), 9)];
      }),
    );
  });
}

describe('SqlRollupStore on PGlite', () => {
  rollupStoreContract(async () => {
    const db = await embeddedDatabase(undefined);
    // The second instance reaches the same PGlite through a connection of its own, as the
    // local runtime's aggregator thread does.
    return { db, another: async () => embeddedDatabaseClient(db.connect()), close: () => db.close() };
  });
});

describeWithServices(['postgres'], 'SqlRollupStore on PostgreSQL', () => {
  rollupStoreContract(async () => {
    const fresh = await freshPostgresUrl();
    const db = postgresDatabase(fresh.url);
    const others: SqlDatabase[] = [];
    return {
      db,
      async another() {
        const other = postgresDatabase(fresh.url);
        others.push(other);
        return other;
      },
      async close() {
        await Promise.all([db, ...others].map((d) => d.close()));
        await fresh.drop();
      },
    };
  });
});
