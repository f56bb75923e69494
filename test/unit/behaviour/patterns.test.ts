import { featureDeltas, mergeFeatureState, type FeatureState } from '../../../functions/domain/behaviour/features';
import { KEPT_STEPS, activityProfile, weeklySessions } from '../../../functions/domain/behaviour/pattern-features';
import { fitArchetypes, silhouette } from '../../../functions/domain/behaviour/archetypes';
import { mineSequences } from '../../../functions/domain/behaviour/sequences';
import { adjustedRandIndex } from '../../../functions/domain/behaviour/adjusted-rand';
import { mulberry32, normal } from '../../../functions/domain/demo/synthetic-traffic';
import type { StoredEvent } from '../../../functions/domain/events/schema';

const DAY = 86_400_000;
const START = Date.UTC(2026, 9, 1, 12);
let id = 0;
function event(type: string, attributes: object, at: number): StoredEvent {
  id += 1;
  const occurredAt = new Date(at).toISOString();
  return { v: 1, eventId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, type, occurredAt, receivedAt: occurredAt, subject: 'a', session: 's', attributes, context: {} } as StoredEvent;
}
const started = (day: number, hour = 0) => event('session.started', { scenarioId: 'x', channel: 'app' }, START + day * DAY + hour * 3_600_000);
const ended = (day: number, completed: boolean) => event('session.ended', { scenarioId: 'x', durationSec: 60, activeSec: 60, completed }, START + day * DAY + 3_000_000);
const mood = (valence: number, at: number) => event('mood.reported', { valence, arousal: 0.5 }, at);
const stateOf = (events: readonly StoredEvent[]) => featureDeltas(events).get('a')!;
// The fields this file adds; features.test.ts proves the rest (whose float sums may differ in the last bit by order).
const patternPart = ({ days, daySessions, steps }: FeatureState) => ({ days, daySessions, steps });

describe('pattern features', () => {
  it('count sessions per day and keep the latest steps exactly, whatever the split and merge order', () => {
    const events = [started(0), ended(0, true), started(0, 5), ended(2, false), started(9), ...Array.from({ length: 30 }, (_, i) => mood(i % 3 === 0 ? -0.5 : 0.5, START + i * 3_600_000)), event('crisis.signal', { severity: 'high', source: 'classifier' }, START + 4 * DAY)];
    const whole = stateOf(events);
    const parts = [events.slice(0, 4), events.slice(4, 20), events.slice(20)].map(stateOf);

    expect(patternPart(mergeFeatureState(mergeFeatureState(parts[2]!, parts[0]!), parts[1]!))).toEqual(patternPart(whole));
    expect(patternPart(mergeFeatureState(parts[1]!, mergeFeatureState(parts[0]!, parts[2]!)))).toEqual(patternPart(whole));
    expect(whole.daySessions).toEqual([2, 0, 0, 0, 1]);
    expect(whole.steps).toHaveLength(KEPT_STEPS);
    expect(whole.steps!.at(-1)).toEqual([START + 4 * DAY, 'crisis.signal']);
    expect(whole.steps!.map(([, token]) => token)).toContain('session.ended:abandoned');
  });

  it('read a state stored before they existed as a user with no sessions or steps counted then', () => {
    const { daySessions: _sessions, steps: _steps, ...old } = stateOf([started(0), ended(0, true)]);
    const merged = mergeFeatureState(old, stateOf([started(1)]));

    expect(merged.daySessions).toEqual([0, 1]);
    expect(merged.steps).toEqual([]);
    expect(weeklySessions(old as FeatureState, START + 14 * DAY)).toEqual([0, 0]);
  });

  it('profile whole weeks of tenure: 3, 2, 1 sessions fall by 1 a week and change by 1 a week', () => {
    const events = [0, 1, 2, 7, 8, 14].flatMap((day) => [started(day), ended(day, day !== 14)]);
    // Day 22 is inside week 3, which is not whole yet: weeks 0..2 only.
    const profile = activityProfile(stateOf(events), START + 22 * DAY);

    expect(weeklySessions(stateOf(events), START + 22 * DAY)).toEqual([3, 2, 1]);
    expect(profile).toEqual({ sessionsPerWeek: 2, sessionsPerWeekTrend: -1, weeklyVariability: 1, completionRate: 5 / 6 });
    expect(activityProfile(stateOf(events), START + 13 * DAY)).toBeNull();
  });
});

describe('archetypes', () => {
  it('computes the silhouette of a small case by hand', () => {
    expect(silhouette([[0], [1], [10], [11]], [0, 0, 1, 1])).toBeCloseTo((9.5 / 10.5 + 8.5 / 9.5) / 2, 12);
  });

  it('recovers three planted groups, chooses k = 3, and names each from its profile in the features\' own units', () => {
    const random = mulberry32(7);
    const jitter = (value: number, sd: number) => value + normal(random) * sd;
    const groups = {
      steady: () => ({ sessionsPerWeek: jitter(4, 0.3), sessionsPerWeekTrend: jitter(0, 0.05), weeklyVariability: jitter(1.5, 0.3), completionRate: jitter(0.85, 0.03) }),
      fading: () => ({ sessionsPerWeek: jitter(1, 0.3), sessionsPerWeekTrend: jitter(-0.4, 0.05), weeklyVariability: jitter(0.8, 0.3), completionRate: jitter(0.65, 0.03) }),
      bursty: () => ({ sessionsPerWeek: jitter(3.7, 0.3), sessionsPerWeekTrend: jitter(-0.1, 0.05), weeklyVariability: jitter(6.5, 0.3), completionRate: jitter(0.8, 0.03) }),
    };
    const planted = (['steady', 'fading', 'bursty', 'steady'] as const).flatMap((name) => Array.from({ length: 30 }, () => name));
    const fit = fitArchetypes(planted.map((name) => groups[name]()), { seed: 1, maxK: 6, sampleSize: 60 })!;

    expect(fit.k).toBe(3);
    expect(adjustedRandIndex(planted, fit.assignments)).toBe(1);
    expect(fit.archetypes.map((archetype) => [archetype.name, archetype.users, archetype.share])).toEqual([['steady', 60, 0.5], ['fading', 30, 0.25], ['bursty', 30, 0.25]]);
    expect(fit.archetypes[1]!.profile.sessionsPerWeekTrend).toBeCloseTo(-0.4, 1);
    expect(fit.archetypes[2]!.profile.weeklyVariability).toBeCloseTo(6.5, 0);
    for (const archetype of fit.archetypes) expect(archetype.confidence).toBeGreaterThan(0.5);
  });
});

describe('behaviour sequences before drop-out', () => {
  const [abandoned, negative, completed] = ['session.ended:abandoned', 'mood.reported:negative', 'session.ended:completed'];
  const user = (tokens: string[], droppedOut: boolean) => ({ steps: tokens.map((token, i) => [i, token] as const), droppedOut });

  it('gives the support, confidence and lift of a small case worked by hand', () => {
    // Drop-out rate 2/4. "negative" is in 3 windows, 2 of them drop-outs: confidence 2/3, lift 4/3.
    // "abandoned, negative" is in 2 windows, 1 drop-out: confidence 1/2, lift 1. The first user's
    // "completed" is outside its window of 2; the last user's "completed" never preceded a drop-out.
    const users = [user([completed, abandoned, negative], true), user([negative], true), user([abandoned, negative], false), user([completed], false)];
    const rules = mineSequences(users, { window: 2, maxLength: 2, minSupport: 0, limit: 10 });

    expect(rules).toEqual([
      { steps: [negative], users: 3, droppedOut: 2, support: 0.75, confidence: 2 / 3, lift: 4 / 3 },
      { steps: [abandoned], users: 2, droppedOut: 1, support: 0.5, confidence: 0.5, lift: 1 },
      { steps: [abandoned, negative], users: 2, droppedOut: 1, support: 0.5, confidence: 0.5, lift: 1 },
    ]);
  });

  it('finds nothing where nobody dropped out, and drops runs under the least support', () => {
    expect(mineSequences([user([negative], false)])).toEqual([]);
    expect(mineSequences([user([negative], true), user([completed], false), user([completed], false)], { window: 6, maxLength: 3, minSupport: 0.5, limit: 10 })).toEqual([]);
  });
});

describe('the adjusted Rand index', () => {
  it('is 8/33 for a small case worked by hand, 1 for the same partition under other names', () => {
    // Pairs together in both: 2; rows 3 + 3 = 6 pairs, columns 1 + 1 + 1 = 3; expected 6 x 3 / 15 = 1.2; max 4.5.
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(8 / 33, 12);
    expect(adjustedRandIndex(['x', 'x', 'y'], [5, 5, 2])).toBe(1);
    expect(() => adjustedRandIndex([1], [1, 2])).toThrow(RangeError);
  });
});
