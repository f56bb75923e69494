import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { METRICS, STORED_METRICS } from '../../../functions/domain/rollups/catalogue';
import { QuantileSketch } from '../../../functions/domain/rollups/quantile-sketch';
import { computeRollups, FINEST_GROUPINGS, rollUpMinutes, type RollupRow, type RollupValues } from '../../../functions/domain/rollups/rollup';

/** The row holding both rows' events, keyed as `a`: what the stores do in SQL, as the reference these tests hold batches and parts to. */
function mergeRollupRows<Row extends RollupValues>(a: Row, b: RollupValues): Row {
  let quantiles: QuantileSketch | undefined;
  if (a.quantiles || b.quantiles) {
    quantiles = new QuantileSketch();
    if (a.quantiles) quantiles.merge(a.quantiles);
    if (b.quantiles) quantiles.merge(b.quantiles);
  }
  return {
    ...a,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    quantiles,
    users: a.users.merge(b.users),
  };
}

function event(type: string, attributes: object, options: { user: string; at: string; platform?: string }): StoredEvent {
  return {
    v: 1,
    eventId: randomUUID(),
    type,
    occurredAt: options.at,
    receivedAt: options.at,
    subject: options.user,
    session: 'ab'.repeat(32),
    attributes,
    context: options.platform ? { platform: options.platform } : {},
  } as StoredEvent;
}

const U1 = '1'.repeat(64);
const U2 = '2'.repeat(64);
const U3 = '3'.repeat(64);

const events: StoredEvent[] = [
  event('session.started', { scenarioId: 'forest' }, { user: U1, at: '2026-11-20T10:00:05.000Z', platform: 'ios' }),
  event('session.ended', { scenarioId: 'forest', durationSec: 300, completed: true }, { user: U1, at: '2026-11-20T10:05:00.000Z', platform: 'ios' }),
  event('session.ended', { scenarioId: 'forest', durationSec: 100, completed: false }, { user: U2, at: '2026-11-20T10:05:30.000Z' }),
  event('choice.made', { scenarioId: 'forest', sceneId: 's', choiceId: 'c', choiceType: 'therapeutic', therapeuticValue: 0.8, responseTimeMs: 1200 }, { user: U2, at: '2026-11-20T11:59:59.999Z', platform: 'web' }),
  event('intervention.delivered', { interventionType: 'grounding', urgency: 'standard', completion: 'completed' }, { user: U3, at: '2026-11-20T12:00:00.000Z', platform: 'web' }),
  event('mood.reported', { valence: -0.5, arousal: 0.2 }, { user: U1, at: '2026-11-20T12:00:30.000Z', platform: 'ios' }),
  event('mood.reported', { valence: 0.25, arousal: 0.2 }, { user: U3, at: '2026-11-21T00:00:00.000Z', platform: 'ios' }),
  event('assessment.completed', { instrument: 'PHQ-9', score: 12 }, { user: U3, at: '2026-11-21T00:01:00.000Z', platform: 'android' }),
];

const rows = computeRollups(events, Infinity);
function row(metric: string, interval: string, bucket: string, group: Record<string, string> = {}): RollupRow | undefined {
  const dimensions = Object.keys(group).sort();
  return rows.find(
    (r) =>
      r.metric === metric &&
      r.interval === interval &&
      r.bucket === Date.parse(bucket) &&
      r.grouping === dimensions.join(',') &&
      r.groupKey === JSON.stringify(dimensions.map((d) => group[d])),
  );
}
const stats = (r: RollupRow | undefined) => r && { count: r.count, sum: r.sum, min: r.min, max: r.max, users: r.users.estimate().count };

describe('computeRollups', () => {
  it('counts every event in the events metric at each interval, with distinct users', () => {
    expect(stats(row('events', 'day', '2026-11-20T00:00:00Z'))).toMatchObject({ count: 6, users: 3 });
    expect(stats(row('events', 'day', '2026-11-21T00:00:00Z'))).toMatchObject({ count: 2, users: 1 });
    expect(stats(row('events', 'hour', '2026-11-20T10:00:00Z'))).toMatchObject({ count: 3, users: 2 });
    expect(stats(row('events', 'hour', '2026-11-20T11:00:00Z'))).toMatchObject({ count: 1, users: 1 });
    expect(stats(row('events', 'minute', '2026-11-20T10:05:00Z', { type: 'session.ended', platform: 'ios' }))).toMatchObject({ count: 1, users: 1 });
    expect(stats(row('events', 'minute', '2026-11-20T10:05:00Z', { type: 'session.ended', platform: 'unknown' }))).toMatchObject({ count: 1, users: 1 });
    expect(stats(row('events', 'minute', '2026-11-20T11:59:00Z', { type: 'choice.made', platform: 'web' }))).toMatchObject({ count: 1 });
  });

  it('stores every subset of the dimensions at hour and day, a missing platform as unknown', () => {
    expect(stats(row('events', 'day', '2026-11-20T00:00:00Z', { platform: 'ios' }))).toMatchObject({ count: 3, users: 1 });
    expect(stats(row('events', 'day', '2026-11-20T00:00:00Z', { platform: 'unknown' }))).toMatchObject({ count: 1, users: 1 });
    expect(stats(row('events', 'day', '2026-11-20T00:00:00Z', { type: 'session.ended' }))).toMatchObject({ count: 2, users: 2 });
    expect(stats(row('events', 'day', '2026-11-20T00:00:00Z', { type: 'session.ended', platform: 'ios' }))).toMatchObject({ count: 1 });
    const groupings = new Set(rows.filter((r) => r.metric === 'interventions').map((r) => r.grouping));
    expect([...groupings].sort()).toEqual(['', 'completion', 'completion,interventionType', 'completion,interventionType,urgency', 'completion,urgency', 'interventionType', 'interventionType,urgency', 'urgency']);
  });

  it('keeps minute rows of the finest grouping only', () => {
    const minuteGroupings = (metric: string) => [...new Set(rows.filter((r) => r.metric === metric && r.interval === 'minute').map((r) => r.grouping))].sort();
    expect(minuteGroupings('interventions')).toEqual(['completion,interventionType,urgency']);
    expect(minuteGroupings('events')).toEqual(['platform,type']);
    expect(minuteGroupings('mood.valence')).toEqual(['platform']);
  });

  it('feeds sessions, completed sessions and durations from their events', () => {
    expect(stats(row('sessions', 'hour', '2026-11-20T10:00:00Z', { scenarioId: 'forest', platform: 'ios' }))).toMatchObject({ count: 1 });
    expect(stats(row('sessions.completed', 'day', '2026-11-20T00:00:00Z'))).toMatchObject({ count: 1, users: 1 });
    expect(stats(row('session.duration', 'day', '2026-11-20T00:00:00Z', { scenarioId: 'forest' }))).toEqual({ count: 2, sum: 400, min: 100, max: 300, users: 2 });
    expect(row('session.duration', 'day', '2026-11-20T00:00:00Z')!.quantiles!.quantile(1)).toBe(300);
    expect(row('sessions', 'day', '2026-11-20T00:00:00Z')!.quantiles).toBeUndefined();
  });

  it('feeds the choice, intervention, mood and assessment metrics', () => {
    expect(stats(row('choice.response_time', 'minute', '2026-11-20T11:59:00Z', { choiceType: 'therapeutic', scenarioId: 'forest' }))).toMatchObject({ count: 1, sum: 1200 });
    expect(stats(row('choice.therapeutic_value', 'hour', '2026-11-20T11:00:00Z', { choiceType: 'therapeutic' }))).toMatchObject({ sum: 0.8 });
    expect(stats(row('interventions', 'day', '2026-11-20T00:00:00Z', { interventionType: 'grounding', completion: 'completed', urgency: 'standard' }))).toMatchObject({ count: 1 });
    expect(stats(row('mood.valence', 'day', '2026-11-20T00:00:00Z', { platform: 'ios' }))).toEqual({ count: 1, sum: -0.5, min: -0.5, max: -0.5, users: 1 });
    expect(stats(row('mood.valence', 'day', '2026-11-21T00:00:00Z'))).toMatchObject({ count: 1, sum: 0.25 });
    expect(stats(row('assessment.score', 'minute', '2026-11-21T00:01:00Z', { instrument: 'PHQ-9' }))).toMatchObject({ count: 1, sum: 12 });
  });

  it('writes one row per key and nothing for metrics without rows', () => {
    const ids = rows.map((r) => [r.metric, r.interval, r.bucket, r.grouping, r.groupKey].join('|'));
    expect(new Set(ids).size).toBe(ids.length);
    expect(rows.some((r) => r.metric === 'active_users')).toBe(false);
    expect(STORED_METRICS.length).toBe(METRICS.length - 1);
  });

  it('merges two batches into the rows of the whole', () => {
    const whole = computeRollups(events, Infinity);
    const first = computeRollups(events.slice(0, 4), Infinity);
    const second = computeRollups(events.slice(4), Infinity);
    const key = (r: RollupRow) => [r.metric, r.interval, r.bucket, r.grouping, r.groupKey].join('|');
    const merged = new Map(first.map((r) => [key(r), r]));
    for (const r of second) merged.set(key(r), merged.has(key(r)) ? mergeRollupRows(merged.get(key(r))!, r) : r);
    expect(merged.size).toBe(whole.length);
    for (const r of whole) {
      const m = merged.get(key(r))!;
      expect([m.count, m.sum, m.min, m.max, m.users.estimate().count]).toEqual([r.count, r.sum, r.min, r.max, r.users.estimate().count]);
      expect(m.quantiles?.quantile(0.5)).toBe(r.quantiles?.quantile(0.5));
    }
  });
});

describe('the roll-up of minute rows', () => {
  const key = (r: RollupRow) => [r.metric, r.interval, r.bucket, r.grouping, r.groupKey].join('|');
  const figures = (r: RollupRow) => [r.count, r.sum, r.min, r.max, r.users.estimate().count, r.quantiles?.quantile(0.5), r.quantiles?.quantile(0.95)];
  const byKey = (list: readonly RollupRow[]) => new Map(list.map((r) => [key(r), figures(r)]));
  const coarse = rows.filter((r) => r.interval !== 'minute');

  it('writes minute rows only for events of minutes the roll-up has not passed', () => {
    const minutes = computeRollups(events, -Infinity);
    expect(minutes.every((r) => r.interval === 'minute')).toBe(true);
    expect(byKey(minutes)).toEqual(byKey(rows.filter((r) => r.interval === 'minute')));
    // Rolled up to 12:00: the events before it also go into their hour and day rows.
    const partly = computeRollups(events, Date.parse('2026-11-20T12:00:00Z'));
    const early = events.filter((e) => e.occurredAt < '2026-11-20T12:00');
    expect(byKey(partly.filter((r) => r.interval !== 'minute'))).toEqual(byKey(computeRollups(early, Infinity).filter((r) => r.interval !== 'minute')));
  });

  it('writes no minute rows for events of minutes before both the watermark and the minute rows\' retention cutoff', () => {
    const noon = Date.parse('2026-11-20T12:00:00Z');
    // Rolled up to the end, minutes kept from 12:00: the morning's events go to their hours and days only.
    const kept = computeRollups(events, Infinity, noon);
    expect(byKey(kept.filter((r) => r.interval === 'minute'))).toEqual(byKey(rows.filter((r) => r.interval === 'minute' && r.bucket >= noon)));
    expect(byKey(kept.filter((r) => r.interval !== 'minute'))).toEqual(byKey(coarse));
    // Minutes the roll-up has not passed keep their rows whatever their age: it folds them later.
    expect(byKey(computeRollups(events, -Infinity, Infinity))).toEqual(byKey(computeRollups(events, -Infinity)));
    const partly = computeRollups(events, Date.parse('2026-11-20T11:00:00Z'), noon);
    expect(partly.filter((r) => r.interval === 'minute').every((r) => r.bucket >= Date.parse('2026-11-20T11:00:00Z'))).toBe(true);
    expect(byKey(partly.filter((r) => r.interval === 'minute'))).toEqual(byKey(rows.filter((r) => r.interval === 'minute' && r.bucket >= Date.parse('2026-11-20T11:00:00Z'))));
  });

  it('folds the finest minute rows into the same hour and day rows, of every grouping, as the events give', () => {
    const minutes = computeRollups(events, -Infinity);
    expect(new Set(minutes.map((r) => r.grouping))).toEqual(new Set(FINEST_GROUPINGS.filter((g) => minutes.some((r) => r.metric === g.metric)).map((g) => g.grouping)));
    expect(byKey(rollUpMinutes(minutes))).toEqual(byKey(coarse));
  });

  it('adds up to the whole when the minutes are folded in parts', () => {
    const minutes = computeRollups(events, -Infinity);
    const merged = new Map<string, RollupRow>();
    for (const part of [minutes.filter((r) => r.bucket < Date.parse('2026-11-20T11:00:00Z')), minutes.filter((r) => r.bucket >= Date.parse('2026-11-20T11:00:00Z'))]) {
      for (const r of rollUpMinutes(part)) merged.set(key(r), merged.has(key(r)) ? mergeRollupRows(merged.get(key(r))!, r) : r);
    }
    expect(byKey([...merged.values()])).toEqual(byKey(coarse));
  });

  it('refuses rows it cannot fold', () => {
    const total = rows.find((r) => r.metric === 'events' && r.interval === 'hour' && r.grouping === '')!;
    expect(() => rollUpMinutes([total])).toThrow(/not a minute row of a finest grouping/);
  });
});
