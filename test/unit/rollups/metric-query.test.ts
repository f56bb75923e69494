import { randomBytes, randomUUID } from 'node:crypto';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import {
  MAX_POINTS_PER_GROUP,
  QueryError,
  planMetricQuery,
  tileRange,
  validateMetricQuery,
  type MetricQueryParams,
} from '../../../functions/domain/rollups/metric-query';
import { computeRollups, INTERVAL_MS } from '../../../functions/domain/rollups/rollup';
import { queryMetric } from '../../../functions/use-cases/query-metric';
import { memoryRollupReader } from '../../support/memory-rollups';

const base = { metric: 'events', from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z', interval: 'hour' };

function errorOf(params: MetricQueryParams): QueryError {
  try {
    validateMetricQuery(params);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  throw new Error('expected a QueryError');
}

describe('validateMetricQuery', () => {
  it.each<[string, MetricQueryParams, string, RegExp]>([
    ['an unknown metric', { ...base, metric: 'nope' }, 'metric', /unknown metric 'nope'; known: events, /],
    ['an unknown interval', { ...base, interval: 'week' }, 'interval', /minute, hour, day/],
    ['a from that is no instant', { ...base, from: 'yesterday' }, 'from', /ISO-8601/],
    ['a to without offset', { ...base, to: '2026-11-21T00:00:00' }, 'to', /ISO-8601/],
    ['to before from', { ...base, to: '2026-11-19T00:00:00Z' }, 'to', /after from/],
    ['to equal to from', { ...base, to: base.from }, 'to', /after from/],
    ['too many buckets', { ...base, interval: 'minute', to: '2026-11-30T00:00:00Z' }, 'interval', new RegExp(`more than ${MAX_POINTS_PER_GROUP}`)],
    ['an unknown dimension', { ...base, groupBy: 'type,foo' }, 'groupBy', /^unknown dimension 'foo' for metric events; allowed: type, platform$/],
    ['a dimension of another metric', { ...base, metric: 'active_users', groupBy: 'type' }, 'groupBy', /allowed: platform$/],
    ['a repeated dimension', { ...base, groupBy: ['type', 'type'] }, 'groupBy', /twice/],
    ['a groupBy that is no list', { ...base, groupBy: 3 }, 'groupBy', /comma-separated/],
  ])('refuses %s, naming the parameter', (_, params, parameter, message) => {
    const error = errorOf(params);
    expect(error.parameter).toBe(parameter);
    expect(error.message).toMatch(message);
  });

  it('widens the range to whole buckets and keeps the requested groupBy order', () => {
    const query = validateMetricQuery({ ...base, from: '2026-11-20T10:30:00+01:00', to: '2026-11-20T12:00:01Z', groupBy: 'type, platform' });
    expect([query.from, query.to]).toEqual([Date.parse('2026-11-20T09:00:00Z'), Date.parse('2026-11-20T13:00:00Z')]);
    expect(query.groupBy).toEqual(['type', 'platform']);
    expect(query.grouping).toBe('platform,type');
  });

  it('reads active users from the events rows', () => {
    const plan = planMetricQuery(validateMetricQuery({ ...base, metric: 'active_users', groupBy: 'platform' }));
    expect(plan.series).toEqual({ rows: { metric: 'events', grouping: 'platform', interval: 'hour', from: plan.series.rows.from, to: plan.series.rows.to, values: false } });
    expect(plan.users.map((part) => part.rows.metric)).toEqual(['events']);
    // Only a distribution's points show sum, min, max and quantiles, so only its rows are read with them.
    expect(planMetricQuery(validateMetricQuery({ ...base, metric: 'mood.valence' })).series.rows.values).toBe(true);
    expect(planMetricQuery(validateMetricQuery({ ...base, metric: 'sessions' })).series.rows.values).toBe(false);
  });

  it('sums a minute series of a coarser grouping than the finest from the finest rows', () => {
    const plan = planMetricQuery(validateMetricQuery({ ...base, from: '2026-11-20T09:58:00Z', to: '2026-11-20T12:00:00Z', interval: 'minute', groupBy: 'type' }));
    expect(plan.series.rows).toMatchObject({ metric: 'events', grouping: 'platform,type', interval: 'minute' });
    expect(plan.series.project!('["ios","mood.reported"]')).toBe('["mood.reported"]');
    expect(plan.users.map((part) => [part.rows.grouping, part.rows.tiles.map((t) => t.interval), part.project !== undefined])).toEqual([
      ['type', ['hour'], false],
      ['platform,type', ['minute'], true],
    ]);
    const total = planMetricQuery(validateMetricQuery({ ...base, interval: 'minute', to: '2026-11-20T06:00:00Z' }));
    expect(total.series.rows.grouping).toBe('platform,type');
    expect(total.series.project!('["ios","mood.reported"]')).toBe('[]');
    const finest = planMetricQuery(validateMetricQuery({ ...base, interval: 'minute', to: '2026-11-20T06:00:00Z', groupBy: 'type,platform' }));
    expect(finest.series.project).toBeUndefined();
  });
});

describe('tileRange', () => {
  const at = (iso: string) => Date.parse(iso);

  it('covers 30 days with 30 day buckets, and the edges with hours and minutes', () => {
    expect(tileRange(at('2026-11-01T00:00:00Z'), at('2026-12-01T00:00:00Z'))).toEqual([{ interval: 'day', from: at('2026-11-01T00:00:00Z'), to: at('2026-12-01T00:00:00Z') }]);
    expect(tileRange(at('2026-11-01T22:58:00Z'), at('2026-11-04T01:02:00Z'))).toEqual([
      { interval: 'minute', from: at('2026-11-01T22:58:00Z'), to: at('2026-11-01T23:00:00Z') },
      { interval: 'hour', from: at('2026-11-01T23:00:00Z'), to: at('2026-11-02T00:00:00Z') },
      { interval: 'day', from: at('2026-11-02T00:00:00Z'), to: at('2026-11-04T00:00:00Z') },
      { interval: 'hour', from: at('2026-11-04T00:00:00Z'), to: at('2026-11-04T01:00:00Z') },
      { interval: 'minute', from: at('2026-11-04T01:00:00Z'), to: at('2026-11-04T01:02:00Z') },
    ]);
  });

  it('tiles random minute-aligned ranges exactly, contiguously, with aligned tiles', () => {
    for (let i = 0; i < 200; i++) {
      const from = Math.floor(Math.random() * 100_000) * INTERVAL_MS.minute;
      const to = from + (1 + Math.floor(Math.random() * 20_000)) * INTERVAL_MS.minute;
      const tiles = tileRange(from, to);
      let cursor = from;
      for (const tile of tiles) {
        expect(tile.from).toBe(cursor);
        expect(tile.from % INTERVAL_MS[tile.interval]).toBe(0);
        expect(tile.to % INTERVAL_MS[tile.interval]).toBe(0);
        expect(tile.to).toBeGreaterThan(tile.from);
        cursor = tile.to;
      }
      expect(cursor).toBe(to);
      expect(tiles.length).toBeLessThanOrEqual(5);
    }
  });
});

function moods(platform: string, users: number, at: string, valence: number): StoredEvent[] {
  return Array.from({ length: users }, () => ({
    v: 1,
    eventId: randomUUID(),
    type: 'mood.reported',
    occurredAt: at,
    receivedAt: at,
    subject: randomBytes(32).toString('hex'),
    session: 'ab'.repeat(32),
    attributes: { valence, arousal: 0.5 },
    context: { platform },
  })) as StoredEvent[];
}

describe('queryMetric', () => {
  const k = 5;
  const store = memoryRollupReader(
    computeRollups([
      ...moods('ios', k, '2026-11-20T10:15:00.000Z', 0.5),
      ...moods('android', k - 1, '2026-11-20T10:20:00.000Z', -0.5),
      ...moods('ios', 2, '2026-11-20T12:00:00.000Z', 0),
    ], Infinity),
  );

  it('shows a group of k users and suppresses one of k - 1, listing it', async () => {
    const answer = await queryMetric(store, { metric: 'mood.valence', from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z', interval: 'hour', groupBy: 'platform' }, { k });
    expect(answer).toEqual({
      metric: 'mood.valence',
      interval: 'hour',
      from: '2026-11-20T00:00:00Z',
      to: '2026-11-21T00:00:00Z',
      groupBy: ['platform'],
      series: [
        {
          group: { platform: 'ios' },
          points: [
            { t: '2026-11-20T10:00:00Z', count: k, users: k, sum: 0.5 * k, mean: 0.5, min: 0.5, max: 0.5, p50: 0.5, p95: 0.5 },
            { t: '2026-11-20T12:00:00Z', count: 2, users: 2, sum: 0, mean: 0, min: 0, max: 0, p50: 0, p95: 0 },
          ],
        },
      ],
      suppressed: [{ group: { platform: 'android' }, reason: 'k_anonymity' }],
    });
  });

  it('merges users across days when no single day reaches k: distinct people count, repeat visits do not', async () => {
    const people = (count: number) => Array.from({ length: count }, () => randomBytes(32).toString('hex'));
    const visit = (subjects: string[], platform: string, at: string) =>
      moods(platform, subjects.length, at, 0).map((event, i) => ({ ...event, subject: subjects[i]! }));
    const [monday, tuesday, regulars] = [people(k - 2), people(k - 2), people(k - 2)];
    const spread = memoryRollupReader(
      computeRollups([
        ...visit(monday, 'web', '2026-11-16T09:00:00.000Z'),
        ...visit(tuesday, 'web', '2026-11-17T09:00:00.000Z'),
        ...visit(regulars, 'desktop', '2026-11-16T09:00:00.000Z'),
        ...visit(regulars, 'desktop', '2026-11-17T09:00:00.000Z'),
      ], Infinity),
    );

    const answer = await queryMetric(spread, { metric: 'events', from: '2026-11-16T00:00:00Z', to: '2026-11-18T00:00:00Z', interval: 'day', groupBy: 'platform' }, { k });

    expect(answer.series.map((s) => s.group)).toEqual([{ platform: 'web' }]);
    expect(answer.suppressed).toEqual([{ group: { platform: 'desktop' }, reason: 'k_anonymity' }]);
  });

  it('decides suppression on the users of the whole range, not per point', async () => {
    const answer = await queryMetric(store, { metric: 'active_users', from: '2026-11-20T10:00:00Z', to: '2026-11-20T11:00:00Z', interval: 'minute' }, { k: 2 * k - 1 });
    expect(answer.series).toEqual([
      {
        group: {},
        points: [
          { t: '2026-11-20T10:15:00Z', count: k, users: k },
          { t: '2026-11-20T10:20:00Z', count: k - 1, users: k - 1 },
        ],
      },
    ]);
    const narrower = await queryMetric(store, { metric: 'active_users', from: '2026-11-20T10:00:00Z', to: '2026-11-20T10:16:00Z', interval: 'minute' }, { k: 2 * k - 1 });
    expect(narrower.suppressed).toEqual([{ group: {}, reason: 'k_anonymity' }]);
  });

  it('sums a minute series of a grouping the minute rows skip from the finest rows: counts, users, quantiles, and the gate', async () => {
    const sessions = (platform: string, users: number, at: string, durations: (i: number) => number, scenarioId = 'forest') =>
      moods(platform, users, at, 0).map((event, i) => ({ ...event, type: 'session.ended', attributes: { scenarioId, durationSec: durations(i), completed: true } })) as StoredEvent[];
    const durations = Array.from({ length: 200 }, (_, i) => 10 + i);
    const mixed = memoryRollupReader(
      computeRollups([
        ...sessions('ios', 150, '2026-11-20T10:15:10.000Z', (i) => durations[i]!),
        ...sessions('android', 50, '2026-11-20T10:15:50.000Z', (i) => durations[150 + i]!),
        ...sessions('web', k - 1, '2026-11-20T10:40:00.000Z', () => 60, 'lake'),
      ], Infinity),
    );
    const range = { from: '2026-11-20T10:10:00Z', to: '2026-11-20T11:05:00Z', interval: 'minute' };

    const answer = await queryMetric(mixed, { metric: 'session.duration', ...range, groupBy: 'scenarioId' }, { k });

    expect(answer.suppressed).toEqual([{ group: { scenarioId: 'lake' }, reason: 'k_anonymity' }]);
    expect(answer.series).toHaveLength(1);
    const [point, ...others] = answer.series[0]!.points;
    expect(others).toEqual([]);
    expect(point).toMatchObject({ t: '2026-11-20T10:15:00Z', count: 200, users: 200, sum: durations.reduce((a, b) => a + b, 0), min: 10, max: 209 });
    expect(Math.abs(point!.p50! - 109.5)).toBeLessThanOrEqual(0.01 * 110);
    expect(Math.abs(point!.p95! - 199.05)).toBeLessThanOrEqual(0.01 * 200);
    // Each platform's group alone is under k: only the summed group reaches it.
    const few = memoryRollupReader(computeRollups([...sessions('ios', k - 1, '2026-11-20T10:15:10.000Z', () => 30), ...sessions('android', 1, '2026-11-20T10:16:10.000Z', () => 30)], Infinity));
    const summed = await queryMetric(few, { metric: 'sessions.completed', ...range, groupBy: 'scenarioId' }, { k });
    expect(summed.series).toEqual([
      {
        group: { scenarioId: 'forest' },
        points: [
          { t: '2026-11-20T10:15:00Z', count: k - 1, users: k - 1 },
          { t: '2026-11-20T10:16:00Z', count: 1, users: 1 },
        ],
      },
    ]);
  });

  it('marks estimated users on points and counts them in the gate', async () => {
    const many = memoryRollupReader(computeRollups(moods('web', 1_500, '2026-11-20T10:00:00.000Z', 0.1), Infinity));
    const answer = await queryMetric(many, { metric: 'mood.valence', from: '2026-11-20T10:00:00Z', to: '2026-11-20T11:00:00Z', interval: 'hour' }, { k: 10 });
    const point = answer.series[0]!.points[0]!;
    expect(point.usersApprox).toBe(true);
    expect(Math.abs(point.users - 1_500)).toBeLessThan(45);
    expect(point.count).toBe(1_500);
  });
});
