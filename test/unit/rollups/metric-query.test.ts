import { randomBytes, randomUUID } from 'node:crypto';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import {
  dayDecisionPlan,
  MAX_POINTS_PER_GROUP,
  metricReleasePolicy,
  QueryError,
  planFrom,
  planMetricQuery,
  releasedRows,
  usedMergedRows,
  validateMetricQuery,
  type MetricQueryParams,
  type ReadPlan,
} from '../../../functions/domain/rollups/metric-query';
import { computeRollups, groupKeyOf, INTERVAL_MS } from '../../../functions/domain/rollups/rollup';
import { syntheticTraffic } from '../../../functions/domain/demo/synthetic-traffic';
import { toStoredEvent } from '../../../functions/domain/events/validate';
import { pseudonymisers } from '../../../functions/handlers/ingest';
import type { RollupReader } from '../../../functions/ports/rollups';
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
    ['an unknown interval', { ...base, interval: 'year' }, 'interval', /minute, hour, day, week, month/],
    ['a missing interval', { ...base, interval: undefined }, 'interval', /^is required: one of minute, hour, day, week, month$/],
    ['a missing from', { ...base, from: undefined }, 'from', /^is required: an ISO-8601 instant/],
    ['an empty to', { ...base, to: '' }, 'to', /^is required: an ISO-8601 instant/],
    ['a from that is no instant', { ...base, from: 'yesterday' }, 'from', /ISO-8601/],
    ['a to without offset', { ...base, to: '2026-11-21T00:00:00' }, 'to', /ISO-8601/],
    ['to before from', { ...base, to: '2026-11-19T00:00:00Z' }, 'to', /after from/],
    ['to equal to from', { ...base, to: base.from }, 'to', /after from/],
    ['too many buckets', { ...base, interval: 'minute', to: '2026-11-30T00:00:00Z' }, 'interval', new RegExp(`more than ${MAX_POINTS_PER_GROUP}`)],
    ['an unknown dimension', { ...base, groupBy: 'type,foo' }, 'groupBy', /^unknown dimension 'foo' for metric events; allowed: type, platform$/],
    ['a dimension of another metric', { ...base, metric: 'active_users', groupBy: 'type' }, 'groupBy', /allowed: platform$/],
    ['a repeated dimension', { ...base, groupBy: ['type', 'type'] }, 'groupBy', /twice/],
    ['a groupBy that is no list', { ...base, groupBy: 3 }, 'groupBy', /comma-separated/],
    ['an unknown time zone', { ...base, timeZone: 'Mars/Olympus_Mons' }, 'timeZone', /^unknown time zone 'Mars\/Olympus_Mons': an IANA name like Europe\/London/],
    ['an offset for a time zone', { ...base, timeZone: '+01:00' }, 'timeZone', /unknown time zone/],
    ['local days of a zone half an hour off the stored hours', { ...base, interval: 'day', timeZone: 'Asia/Kolkata' }, 'timeZone', /^Asia\/Kolkata is not a whole number of hours from UTC at 2026-11-20T00:00:00\+05:30/],
    ['local months of Adelaide', { ...base, interval: 'month', timeZone: 'Australia/Adelaide' }, 'timeZone', /whole number of hours/],
    ['local hours of Kolkata', { ...base, interval: 'hour', timeZone: 'Asia/Kolkata' }, 'timeZone', /whole number of hours/],
    ['weeks over more than 10,000 days', { ...base, interval: 'week', from: '2000-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 'to', /spans 10958 days, more than 10000/],
    ['local months summed from more than 10,000 hours', { ...base, interval: 'month', timeZone: 'Europe/London', to: '2028-01-01T00:00:00Z' }, 'to', /summed from hours.*about 13 months/],
    ['a filter of an unknown dimension', { ...base, filter: 'platform:ios,device:pixel' }, 'filter', /^unknown dimension 'device' for metric events; allowed: type, platform$/],
    ['a filter of a dimension of another metric', { ...base, metric: 'mood.valence', filter: 'scenarioId:forest-path' }, 'filter', /allowed: platform$/],
    ['a filter term without a colon', { ...base, filter: 'platform:ios,android' }, 'filter', /^'android' is not dimension:value, like platform:ios \(several values of one dimension: platform:ios,platform:android\)$/],
    ['a filter term without a value', { ...base, filter: 'platform:' }, 'filter', /'platform:' is not dimension:value/],
    ['a filter term without a dimension', { ...base, filter: ':ios' }, 'filter', /':ios' is not dimension:value/],
    ['an empty filter term', { ...base, filter: 'platform:ios,' }, 'filter', /'' is not dimension:value/],
    ['a filter value with a control character', { ...base, filter: 'platform:io\u0000s' }, 'filter', /^the value of platform must be an identifier \(letters, digits and \. _ : @ \/ -\), at most 128 characters$/],
    ['a filter value with a space', { ...base, filter: 'platform:i os' }, 'filter', /must be an identifier/],
    ['a filter value longer than any dimension value', { ...base, filter: `platform:${'x'.repeat(129)}` }, 'filter', /at most 128 characters/],
    ['a filter value that is an e-mail address', { ...base, metric: 'sessions', filter: 'scenarioId:jane.doe@example.com' }, 'filter', /^the value of scenarioId looks like personal data \(email\)/],
    ['a filter that is no list', { ...base, filter: { platform: 'ios' } }, 'filter', /comma-separated list of dimension:value/],
  ])('refuses %s, naming the parameter', (_, params, parameter, message) => {
    const error = errorOf(params);
    expect(error.parameter).toBe(parameter);
    expect(error.message).toMatch(message);
  });

  it('reads a filter as values per dimension, and the cells at groupBy and the filtered dimensions', () => {
    const query = validateMetricQuery({ ...base, metric: 'choice.response_time', groupBy: 'choiceType', filter: 'scenarioId:forest-path, scenarioId :lake:dawn,scenarioId:forest-path' });
    // Spaces around a dimension are trimmed, a value may hold colons, and a repeat counts once.
    expect(query.filter).toEqual({ scenarioId: ['forest-path', 'lake:dawn'] });
    expect(query.grouping).toBe('choiceType,scenarioId');
    expect(query.groupBy).toEqual(['choiceType']);
    expect(validateMetricQuery({ ...base, groupBy: 'platform', filter: 'platform:ios' }).grouping).toBe('platform');
    expect(validateMetricQuery({ ...base, filter: '' }).filter).toEqual({});
  });

  it('widens the range to whole buckets and keeps the requested groupBy order', () => {
    const query = validateMetricQuery({ ...base, from: '2026-11-20T10:30:00+01:00', to: '2026-11-20T12:00:01Z', groupBy: 'type, platform' });
    expect([query.from, query.to]).toEqual([Date.parse('2026-11-20T09:00:00Z'), Date.parse('2026-11-20T13:00:00Z')]);
    expect(query.groupBy).toEqual(['type', 'platform']);
    expect(query.grouping).toBe('platform,type');
  });

  it('answers a local calendar from stored days where its days are UTC days, from hours where they are not', () => {
    const utcMonths = validateMetricQuery({ ...base, interval: 'month', from: '2001-01-15T00:00:00Z', to: '2026-11-20T00:00:00Z' });
    expect([utcMonths.timeZone, utcMonths.storedInterval, utcMonths.calendar!.length - 1]).toEqual(['UTC', 'day', 311]);
    // Etc/UTC and GMT are UTC, and answered as such.
    const etcUtc = validateMetricQuery({ ...base, interval: 'day', timeZone: 'Etc/UTC' });
    expect([etcUtc.timeZone, etcUtc.storedInterval, etcUtc.calendar]).toEqual(['UTC', 'day', undefined]);
    const autumn = validateMetricQuery({ ...base, interval: 'day', timeZone: 'europe/london', from: '2026-10-25T12:00:00+01:00', to: '2026-10-25T13:00:00Z' });
    expect([autumn.timeZone, autumn.storedInterval, autumn.from, autumn.to]).toEqual(['Europe/London', 'hour', Date.parse('2026-10-24T23:00:00Z'), Date.parse('2026-10-26T00:00:00Z')]);
    // The local days are summed from the query's grouping at both stored intervals, read with their sketches.
    const plan = planMetricQuery({ ...autumn, ...validateMetricQuery({ ...base, interval: 'day', timeZone: 'Europe/London', from: '2026-10-25T12:00:00+01:00', to: '2026-10-25T13:00:00Z', groupBy: 'type' }) });
    expect(plan.levels.map((level) => [level.interval, level.grouping, level.merged ?? false, level.rows.from, level.rows.to])).toEqual([
      ['day', '', false, Date.parse('2026-10-24T00:00:00Z'), Date.parse('2026-10-26T00:00:00Z')],
      ['day', 'type', true, Date.parse('2026-10-24T00:00:00Z'), Date.parse('2026-10-26T00:00:00Z')],
      ['hour', '', false, Date.parse('2026-10-24T00:00:00Z'), Date.parse('2026-10-26T00:00:00Z')],
      ['hour', 'type', true, Date.parse('2026-10-24T00:00:00Z'), Date.parse('2026-10-26T00:00:00Z')],
    ]);
    // Of the hours of its grouping, only those of the UTC day the local bounds cut are read: the 24th (the 26th starts at a bound).
    expect(plan.levels.map((level) => level.spans)).toEqual([undefined, undefined, undefined, [{ from: Date.parse('2026-10-24T00:00:00Z'), to: Date.parse('2026-10-25T00:00:00Z') }]]);
    // Minutes are the same instants everywhere: a zone half an hour off only changes how t is written.
    expect(validateMetricQuery({ ...base, interval: 'minute', to: '2026-11-20T01:00:00Z', timeZone: 'Asia/Kolkata' }).timeZone).toBe('Asia/Kolkata');
  });

  it("reads the sketches of a filter's selected cells, and of every cell the table still decides", () => {
    const query = validateMetricQuery({ ...base, from: '2026-11-18T00:00:00Z', groupBy: 'type', filter: 'platform:ios,platform:android' });
    const whole = planMetricQuery(query);
    // The store decided the 18th and 19th: the table decides the 20th.
    const [until, hour] = [Date.parse('2026-11-20T00:00:00Z'), INTERVAL_MS.hour];
    const plan = planFrom(whole, until);
    const own = plan.levels.at(-1)!;
    expect([own.merged, own.grouping]).toEqual([true, 'platform,type']);
    const used = usedMergedRows(query, own)!;
    const cell = (platform: string) => groupKeyOf([platform, 'mood_logged']);
    expect([used(cell('ios'), until - hour), used(cell('android'), Date.parse('2026-11-18T00:00:00Z')), used(cell('web'), until - hour)]).toEqual([true, true, false]);
    expect([used(cell('web'), until), used(cell('web'), until + 23 * hour)]).toEqual([true, true]);
    // Of the decided days, a point one of whose cells the store withheld is not read at all: at
    // 10:00 on the 19th the ios cell is withheld, so its android sibling is not read either.
    const [ten, eleven] = [Date.parse('2026-11-19T10:00:00Z'), Date.parse('2026-11-19T11:00:00Z')];
    const row = (platform: string, bucket: number) => ({ bucket, groupKey: cell(platform), count: 5, users: 5, usersApprox: false });
    const decided = { until, rows: [row('android', ten), row('ios', ten), row('web', ten), row('android', eleven), row('ios', eleven)], released: Uint8Array.of(1, 0, 1, 1, 1) };
    const usedOfDecided = usedMergedRows(query, own, decided)!;
    expect([ten, eleven].flatMap((bucket) => ['android', 'ios', 'web'].map((platform) => usedOfDecided(cell(platform), bucket)))).toEqual([false, false, false, true, true, false]);
    // The table's own cells are read whatever the store decided.
    expect(usedOfDecided(cell('ios'), until + hour)).toBe(true);
    // The levels the answer does not merge, and merged levels of no filter, are read whole.
    expect(plan.levels.filter((level) => level !== own).map((level) => usedMergedRows(query, level))).toEqual(plan.levels.slice(1).map(() => undefined));
    const week = validateMetricQuery({ ...base, interval: 'week', timeZone: 'America/New_York', groupBy: 'type' });
    expect(planMetricQuery(week).levels.map((level) => usedMergedRows(week, level))).toEqual(planMetricQuery(week).levels.map(() => undefined));
  });

  it('reads active users from the events rows, at every level the policy sets a point against', () => {
    const plan = planMetricQuery(validateMetricQuery({ ...base, metric: 'active_users', groupBy: 'platform' }));
    const day = [Date.parse('2026-11-20T00:00:00Z'), Date.parse('2026-11-21T00:00:00Z')];
    expect(plan.levels.map(({ interval, grouping, rows }) => [interval, grouping, rows.metric, rows.grouping, rows.from, rows.to, rows.values])).toEqual([
      ['day', '', 'events', '', ...day, false],
      ['day', 'platform', 'events', 'platform', ...day, false],
      ['hour', '', 'events', '', ...day, false],
      ['hour', 'platform', 'events', 'platform', ...day, false],
    ]);
    // Only a distribution's points show sum and quantiles, so only its own level is read with them.
    expect(planMetricQuery(validateMetricQuery({ ...base, metric: 'mood.valence' })).levels.map((level) => level.rows.values)).toEqual([false, true]);
    expect(planMetricQuery(validateMetricQuery({ ...base, metric: 'sessions' })).levels.map((level) => level.rows.values)).toEqual([false, false]);
  });

  it('sums a minute series of a coarser grouping than the finest from the finest rows, over whole hours', () => {
    const plan = planMetricQuery(validateMetricQuery({ ...base, from: '2026-11-20T09:58:00Z', to: '2026-11-20T12:00:00Z', interval: 'minute', groupBy: 'type' }));
    const hours = [Date.parse('2026-11-20T09:00:00Z'), Date.parse('2026-11-20T12:00:00Z')];
    const day = [Date.parse('2026-11-20T00:00:00Z'), Date.parse('2026-11-21T00:00:00Z')];
    expect(plan.levels.map(({ interval, grouping, rows, project }) => [interval, grouping, rows.grouping, project?.('["ios","mood.reported"]'), rows.from, rows.to])).toEqual([
      ['day', '', '', undefined, ...day],
      ['day', 'type', 'type', undefined, ...day],
      ['hour', '', '', undefined, ...day],
      ['hour', 'type', 'type', undefined, ...day],
      ['minute', '', 'platform,type', '[]', ...hours],
      ['minute', 'type', 'platform,type', '["mood.reported"]', ...hours],
    ]);
    const finest = planMetricQuery(validateMetricQuery({ ...base, interval: 'minute', to: '2026-11-20T06:00:00Z', groupBy: 'type,platform' }));
    expect(finest.levels.filter((level) => level.interval === 'minute').map((level) => [level.grouping, level.project === undefined])).toEqual([
      ['', false],
      ['platform', false],
      ['type', false],
      ['platform,type', true],
    ]);
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

describe('the release decisions of a UTC day', () => {
  // Three days of the demo's traffic among few people: many cells near k, withheld at every level.
  const now = new Date('2026-11-23T00:00:00Z');
  const pseudonymise = pseudonymisers(Buffer.alloc(32, 3));
  const traffic = [...syntheticTraffic({ seed: 11, clock: { now: () => now }, users: 250, days: 3 })].map((event) => toStoredEvent(event, pseudonymise, now));
  const reader = memoryRollupReader(computeRollups(traffic, Infinity));
  const days = [Date.parse('2026-11-20T00:00:00Z'), Date.parse('2026-11-21T00:00:00Z'), Date.parse('2026-11-22T00:00:00Z')];
  const decide = async (plan: ReadPlan, reading: RollupReader, k: number) => {
    const rows = await Promise.all(plan.levels.map((level) => reading.readSeries(level.rows)));
    const released = releasedRows(plan, rows, metricReleasePolicy(k));
    // Each hour cell's decision, by level, bucket and group.
    return new Map(plan.levels.flatMap((level, l) => (level.interval === 'hour' ? rows[l]!.map((row, i) => [`${level.grouping} ${row.bucket} ${row.groupKey}`, released[l]![i]!] as const) : [])));
  };

  it.each([3, 5, 8])('are those of any range of whole days holding it, for k = %i: a day decided alone is decided as in three', async (k) => {
    for (const { metric, grouping } of [
      { metric: 'interventions', grouping: 'completion,interventionType,urgency' },
      { metric: 'events', grouping: 'platform,type' },
      { metric: 'choice.response_time', grouping: 'choiceType,scenarioId' },
    ]) {
      const query = validateMetricQuery({ metric, from: new Date(days[0]!).toISOString(), to: new Date(days[2]! + INTERVAL_MS.day).toISOString(), interval: 'hour', groupBy: grouping });
      const together = await decide(planMetricQuery(query), reader, k);
      const alone = new Map<string, number>();
      for (const day of days) for (const [cell, released] of await decide(dayDecisionPlan(metric, grouping, day), reader, k)) alone.set(cell, released);
      expect(alone).toEqual(together);
      // Cells are withheld, and not all of them: the comparison decides something.
      expect(new Set(together.values())).toEqual(new Set([0, 1]));
    }
  });
});

describe('queryMetric', () => {
  const k = 5;
  const day = { from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z' };
  const withheld = [{ reason: 'k_anonymity' }];
  const store = memoryRollupReader(
    computeRollups([
      ...moods('ios', k, '2026-11-20T10:15:00.000Z', 0.5),
      ...moods('android', k - 1, '2026-11-20T10:20:00.000Z', -0.5),
      ...moods('web', k + 1, '2026-11-20T10:30:00.000Z', 0.25),
    ], Infinity),
  );

  it('shows a point of k users, withholds the rest of its bucket until the total minus it covers k, and names no group', async () => {
    const answer = await queryMetric(store, { metric: 'mood.valence', ...day, interval: 'hour', groupBy: 'platform' }, { k });
    // Android's k - 1 alone would be the total minus iOS and web: iOS, the smaller, goes too.
    expect(answer).toEqual({
      metric: 'mood.valence',
      interval: 'hour',
      timeZone: 'UTC',
      ...day,
      groupBy: ['platform'],
      series: [{ group: { platform: 'web' }, points: [{ t: '2026-11-20T10:00:00Z', count: k + 1, users: k + 1, sum: 0.25 * (k + 1), mean: 0.25, p50: 0.25, p95: 0.25 }] }],
      suppressed: withheld,
    });
    const total = await queryMetric(store, { metric: 'mood.valence', ...day, interval: 'hour' }, { k });
    expect(total).toMatchObject({ series: [{ group: {}, points: [{ t: '2026-11-20T10:00:00Z', count: 3 * k, users: 3 * k }] }], suppressed: [] });
    // What the total minus the groups shown leaves: iOS and Android, 2k - 1 people.
    expect(total.series[0]!.points[0]!.count - answer.series[0]!.points[0]!.count).toBe(2 * k - 1);
  });

  it('withholds a point under k even where its group has k users over the range', async () => {
    const people = (count: number) => Array.from({ length: count }, () => randomBytes(32).toString('hex'));
    const visit = (subjects: string[], platform: string, at: string) =>
      moods(platform, subjects.length, at, 0).map((event, i) => ({ ...event, subject: subjects[i]! }));
    const [monday, tuesday] = [people(k - 2), people(k - 2)];
    const spread = memoryRollupReader(computeRollups([...visit(monday, 'web', '2026-11-16T09:00:00.000Z'), ...visit(tuesday, 'web', '2026-11-17T09:00:00.000Z')], Infinity));

    const answer = await queryMetric(spread, { metric: 'events', from: '2026-11-16T00:00:00Z', to: '2026-11-18T00:00:00Z', interval: 'day', groupBy: 'platform' }, { k });

    expect(answer.series).toEqual([]);
    expect(answer.suppressed).toEqual(withheld);
  });

  it('withholds more points of a day when those under k would be the day minus the rest', async () => {
    const hours = memoryRollupReader(
      computeRollups([...moods('ios', 1, '2026-11-20T03:10:00.000Z', -1), ...moods('ios', k, '2026-11-20T10:10:00.000Z', 0), ...moods('ios', k + 1, '2026-11-20T11:10:00.000Z', 0)], Infinity),
    );
    const hourly = await queryMetric(hours, { metric: 'mood.valence', ...day, interval: 'hour' }, { k });
    const daily = await queryMetric(hours, { metric: 'mood.valence', ...day, interval: 'day' }, { k });

    // The day (2k + 2) minus 11:00 (k + 1) leaves 03:00 and 10:00 together: k + 1 people.
    expect(hourly.series[0]!.points.map((p) => [p.t, p.users])).toEqual([['2026-11-20T11:00:00Z', k + 1]]);
    expect(daily.series[0]!.points.map((p) => p.users)).toEqual([2 * k + 2]);
    expect(daily.series[0]!.points[0]!.count - hourly.series[0]!.points[0]!.count).toBeGreaterThanOrEqual(k);
  });

  it('decides a minute on its hour, not on where the range cuts: a one-minute range shows what the hour shows', async () => {
    const hour = await queryMetric(store, { metric: 'active_users', from: '2026-11-20T10:00:00Z', to: '2026-11-20T11:00:00Z', interval: 'minute' }, { k });
    // 10:15 (k), 10:20 (k - 1) and 10:30 (k + 1): 10:20 is withheld, and 10:15, the smaller of the others, with it.
    expect(hour.series).toEqual([{ group: {}, points: [{ t: '2026-11-20T10:30:00Z', count: k + 1, users: k + 1 }] }]);
    const minute = await queryMetric(store, { metric: 'active_users', from: '2026-11-20T10:15:00Z', to: '2026-11-20T10:16:00Z', interval: 'minute' }, { k });
    expect(minute).toMatchObject({ series: [], suppressed: withheld });
  });

  it('never releases the largest value of a point: no min or max, and p95 below one outlier', async () => {
    const scores = (users: number, score: number) =>
      moods('ios', users, '2026-11-20T10:15:00.000Z', 0).map((event) => ({ ...event, type: 'assessment.completed', attributes: { instrument: 'PHQ-9', score } })) as StoredEvent[];
    const assessed = memoryRollupReader(computeRollups([...scores(k, 4), ...scores(1, 23)], Infinity));

    const answer = await queryMetric(assessed, { metric: 'assessment.score', ...day, interval: 'hour' }, { k });

    const point = answer.series[0]!.points[0]!;
    expect(Object.keys(point).sort()).toEqual(['count', 'mean', 'p50', 'p95', 'sum', 't', 'users']);
    expect(point.p95).toBeCloseTo(4, 1);
  });

  it('sums a minute series of a grouping the minute rows skip from the finest rows: counts, users, quantiles, and the policy', async () => {
    const sessions = (platform: string, users: number, at: string, durations: (i: number) => number, scenarioId = 'forest') =>
      moods(platform, users, at, 0).map((event, i) => ({ ...event, type: 'session.ended', attributes: { scenarioId, durationSec: durations(i), completed: true } })) as StoredEvent[];
    const durations = Array.from({ length: 200 }, (_, i) => 10 + i);
    const mixed = memoryRollupReader(
      computeRollups([
        ...sessions('ios', 150, '2026-11-20T10:15:10.000Z', (i) => durations[i]!),
        ...sessions('android', 50, '2026-11-20T10:15:50.000Z', (i) => durations[150 + i]!),
        ...sessions('web', k - 1, '2026-11-20T10:40:00.000Z', () => 60, 'lake'),
        // Without a third scenario, forest would be the total minus lake's k - 1, and go with it.
        ...sessions('web', k, '2026-11-20T10:15:20.000Z', () => 45, 'meadow'),
      ], Infinity),
    );
    const range = { from: '2026-11-20T10:10:00Z', to: '2026-11-20T11:05:00Z', interval: 'minute' };

    const answer = await queryMetric(mixed, { metric: 'session.duration', ...range, groupBy: 'scenarioId' }, { k });

    expect(answer.suppressed).toEqual(withheld);
    expect(answer.series.map((s) => s.group)).toEqual([{ scenarioId: 'forest' }]);
    const [point, ...others] = answer.series[0]!.points;
    expect(others).toEqual([]);
    expect(point).toMatchObject({ t: '2026-11-20T10:15:00Z', count: 200, users: 200, sum: durations.reduce((a, b) => a + b, 0) });
    expect(Math.abs(point!.p50! - 109.5)).toBeLessThanOrEqual(0.01 * 110);
    expect(Math.abs(point!.p95! - 199.05)).toBeLessThanOrEqual(0.01 * 200);
    // Each platform's group alone is under k: only the summed group reaches it.
    const few = memoryRollupReader(computeRollups([...sessions('ios', k - 1, '2026-11-20T10:15:10.000Z', () => 30), ...sessions('android', 1, '2026-11-20T10:15:50.000Z', () => 30)], Infinity));
    const summed = await queryMetric(few, { metric: 'sessions.completed', ...range, groupBy: 'scenarioId' }, { k });
    expect(summed).toMatchObject({ series: [{ group: { scenarioId: 'forest' }, points: [{ t: '2026-11-20T10:15:00Z', count: k, users: k }] }], suppressed: [] });
  });

  it('marks estimated users on points and releases them', async () => {
    const many = memoryRollupReader(computeRollups(moods('web', 1_500, '2026-11-20T10:00:00.000Z', 0.1), Infinity));
    const answer = await queryMetric(many, { metric: 'mood.valence', from: '2026-11-20T10:00:00Z', to: '2026-11-20T11:00:00Z', interval: 'hour' }, { k: 10 });
    const point = answer.series[0]!.points[0]!;
    expect(point.usersApprox).toBe(true);
    expect(Math.abs(point.users - 1_500)).toBeLessThan(45);
    expect(point.count).toBe(1_500);
  });
});

describe('queryMetric in a local calendar', () => {
  const k = 5;
  // London's 24 October 2026 (BST) is 23:00Z on the 23rd to 23:00Z on the 24th. One Android user
  // sends a mood at 00:30 local, in the UTC hour 23:00Z of the 23rd, which holds nobody else.
  const store = memoryRollupReader(
    computeRollups([
      ...moods('ios', k, '2026-10-24T10:00:00.000Z', 0.5),
      ...moods('android', k, '2026-10-24T12:00:00.000Z', -0.5),
      ...moods('android', 1, '2026-10-23T23:30:00.000Z', 0.9),
    ], Infinity),
  );
  const london = { metric: 'mood.valence', from: '2026-10-24T00:00:00+01:00', to: '2026-10-25T00:00:00+01:00', interval: 'day', timeZone: 'Europe/London', groupBy: 'platform' };

  it('writes local buckets with their offset and sums each from its own hours', async () => {
    const total = await queryMetric(store, { ...london, groupBy: undefined }, { k: 1 });
    expect(total).toMatchObject({ interval: 'day', timeZone: 'Europe/London', from: '2026-10-24T00:00:00+01:00', to: '2026-10-25T00:00:00+01:00', suppressed: [] });
    expect(total.series[0]!.points).toEqual([{ t: '2026-10-24T00:00:00+01:00', count: 2 * k + 1, users: 2 * k + 1, sum: 0.9, mean: 0.9 / (2 * k + 1), p50: expect.any(Number), p95: expect.any(Number) }]);
  });

  it('withholds a local bucket when a stored cell it sums is withheld: it would be that cell plus figures other answers show', async () => {
    const answer = await queryMetric(store, london, { k });
    // Android's local day has k + 1 users, but its hour 23:00Z holds one: the local day minus
    // Android's UTC day (released, k users) would be that one person's mood.
    expect(answer.series).toEqual([{ group: { platform: 'ios' }, points: [expect.objectContaining({ t: '2026-10-24T00:00:00+01:00', count: k, users: k })] }]);
    expect(answer.suppressed).toEqual([{ reason: 'k_anonymity' }]);
    const utcDays = await queryMetric(store, { ...london, timeZone: undefined, from: '2026-10-24T00:00:00Z', to: '2026-10-25T00:00:00Z' }, { k });
    expect(utcDays.series.find((s) => s.group['platform'] === 'android')!.points).toEqual([expect.objectContaining({ t: '2026-10-24T00:00:00Z', count: k })]);
  });

  it('refuses a local range that starts before the hours kept, which it would answer short; UTC days are kept', async () => {
    const keptFrom = Date.parse('2026-10-24T06:00:00Z');
    await expect(queryMetric(store, london, { k, hoursKeptFrom: keptFrom })).rejects.toMatchObject({ parameter: 'from', message: expect.stringMatching(/^local days in Europe\/London are summed from hour rows, kept since 2026-10-24T07:00:00\+01:00/) });
    const utc = { ...london, timeZone: undefined, from: '2026-10-24T00:00:00Z', to: '2026-10-25T00:00:00Z' };
    expect((await queryMetric(store, utc, { k, hoursKeptFrom: keptFrom })).series.length).toBeGreaterThan(0);
  });

  it('sums a UTC week of its days and a local month of its days and hours alike, the largest value never released', async () => {
    const week = await queryMetric(store, { ...london, interval: 'week', timeZone: undefined, groupBy: undefined }, { k: 1 });
    expect(week).toMatchObject({ interval: 'week', from: '2026-10-19T00:00:00Z', to: '2026-10-26T00:00:00Z' });
    expect(week.series[0]!.points).toEqual([expect.objectContaining({ t: '2026-10-19T00:00:00Z', count: 2 * k + 1, users: 2 * k + 1 })]);
    expect(week.series[0]!.points[0]!.p95).toBeLessThan(0.9);
    const month = await queryMetric(store, { ...london, interval: 'month', groupBy: undefined }, { k: 1 });
    expect(month).toMatchObject({ from: '2026-10-01T00:00:00+01:00', to: '2026-11-01T00:00:00+00:00' });
    expect(month.series[0]!.points).toEqual([expect.objectContaining({ t: '2026-10-01T00:00:00+01:00', count: 2 * k + 1 })]);
    // At k, the UTC day of the 23rd holds one person: the week and month holding it are withheld too.
    for (const interval of ['week', 'month']) {
      expect(await queryMetric(store, { ...london, interval, groupBy: undefined }, { k })).toMatchObject({ series: [], suppressed: [{ reason: 'k_anonymity' }] });
    }
  });
});
