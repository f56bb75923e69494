import fc from 'fast-check';
import { featureDeltas, mergeFeatureState, type FeatureState } from '../../../functions/domain/behaviour/features';
import { firstWeeksFeatures } from '../../../functions/domain/behaviour/outcome-features';
import { outcomeStatus } from '../../../functions/domain/behaviour/outcome-labels';
import type { StoredEvent } from '../../../functions/domain/events/schema';

const DAY = 86_400_000;
const START = Date.UTC(2026, 9, 1, 12);
let id = 0;
function event(type: string, attributes: object, day: number): StoredEvent {
  id += 1;
  const at = new Date(START + day * DAY).toISOString();
  return { v: 1, eventId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, type, occurredAt: at, receivedAt: at, subject: 'a', session: 's', attributes, context: {} } as StoredEvent;
}
const phq9 = (score: number, day: number) => event('assessment.completed', { instrument: 'PHQ-9', score }, day);
const gad7 = (score: number, day: number) => event('assessment.completed', { instrument: 'GAD-7', score }, day);
const started = (day: number) => event('session.started', { scenarioId: 'x', channel: 'app' }, day);
const ended = (completed: boolean, day: number) => event('session.ended', { scenarioId: 'x', durationSec: 300, activeSec: 200, completed }, day);
const stateOf = (events: readonly StoredEvent[]) => featureDeltas(events).get('a')!;
const merged = (parts: readonly StoredEvent[][]) => parts.filter((part) => part.length > 0).map(stateOf).reduce((a, b) => mergeFeatureState(a, b));

describe('the features outcome prediction reads', () => {
  const history = [
    ...[0, 2, 5, 8, 9, 12, 13, 15, 20].flatMap((day) => [started(day), ended(day !== 5, day + 0.01)]),
    phq9(18, 1),
    phq9(14, 8),
    phq9(9, 50),
    phq9(8, 58),
    phq9(20, 70),
    gad7(12, 1),
    event('mood.reported', { valence: -0.4, arousal: 0.5 }, 3),
    event('choice.made', { scenarioId: 'x', sceneId: 'y', choiceId: 'z', choiceType: 'narrative', therapeuticValue: 0.1, responseTimeMs: 900 }, 4),
    event('crisis.signal', { severity: 'moderate', source: 'self_report' }, 6),
  ];

  // The outcome fields only: the trend lines' float sums elsewhere in the state round differently by order.
  it('merge into exactly the state of the whole, however the events are split and ordered', () => {
    const whole = stateOf(history).outcome;
    fc.assert(
      fc.property(fc.shuffledSubarray(history, { minLength: history.length }), fc.array(fc.nat(history.length), { maxLength: 4 }), (order, cuts) => {
        const bounds = [0, ...[...cuts].sort((a, b) => a - b), order.length];
        const parts = bounds.slice(1).map((end, i) => order.slice(bounds[i], end));
        expect(merged(parts).outcome).toEqual(whole);
      }),
    );
  });

  it('read the first two weeks from the first event: days 0-13, the second week apart', () => {
    const early = firstWeeksFeatures(stateOf(history).outcome);

    // Days 15 and 20 fall outside; the session of day 5 was left.
    expect(early).toMatchObject({ sessions: 7, completedSessions: 6, secondWeekSessions: 4, secondWeekCompleted: 4, activeDays: 11, crisisSignals: 1, moodValence: -0.4, choiceResponseMs: 900 });
    expect(early.completionRate).toBeCloseTo(6 / 7, 12);
    expect(early.baseline).toEqual({ 'PHQ-9': { at: START + DAY, score: 18 }, 'GAD-7': { at: START + DAY, score: 12 } });
  });

  it('move the window back when an earlier event arrives later, dropping what no longer falls in it', () => {
    const late = stateOf(history);
    const earlier = [started(-10), ended(true, -9.99), phq9(25, -10)];
    const moved = mergeFeatureState(late, stateOf(earlier));

    expect(moved.outcome).toEqual(stateOf([...earlier, ...history]).outcome);
    // Days -10..3 now: the sessions of days 0 and 2 (and day -10's), not those of day 5 onwards.
    expect(firstWeeksFeatures(moved.outcome)).toMatchObject({ sessions: 3, completedSessions: 3, baseline: { 'PHQ-9': { at: START - 10 * DAY, score: 25 } } });
    // Scores more than eight weeks after the new baseline are gone for good.
    expect(moved.outcome!.scores['PHQ-9']!.map((score) => score.score)).toEqual([25, 18, 14]);
  });

  it('read a state stored before these fields existed as one without them, and merge onto it', () => {
    const { outcome: _dropped, ...stored } = stateOf(history.slice(0, 4));
    const old: FeatureState = stored;

    expect(firstWeeksFeatures(old.outcome)).toMatchObject({ sessions: 0, baseline: {} });
    expect(outcomeStatus(old.outcome, 'phq9_reliable_improvement', START + 100 * DAY)).toEqual({ status: 'no_baseline' });
    expect(mergeFeatureState(old, stateOf([phq9(10, 30)])).outcome!.scores).toEqual({ 'PHQ-9': [{ at: START + 30 * DAY, score: 10 }] });
  });
});

describe('reliable improvement by week 8', () => {
  const status = (events: StoredEvent[], day: number, outcome: 'phq9_reliable_improvement' | 'gad7_reliable_improvement' = 'phq9_reliable_improvement') =>
    outcomeStatus(stateOf([started(0), ...events]).outcome, outcome, START + day * DAY);

  it('is pending until eight weeks after the baseline, then known', () => {
    expect(status([phq9(18, 1), phq9(10, 30)], 56.99)).toEqual({ status: 'pending', baselineAt: START + DAY });
    expect(status([phq9(18, 1), phq9(10, 30)], 57)).toEqual({ status: 'known', baselineAt: START + DAY, improved: true, change: -8 });
  });

  it('reads the last score of the eight weeks: PHQ-9 down 6 points or to half', () => {
    expect(status([phq9(18, 1), phq9(12, 57)], 60)).toMatchObject({ improved: true });
    expect(status([phq9(18, 1), phq9(13, 57)], 60)).toMatchObject({ improved: false });
    expect(status([phq9(10, 1), phq9(5, 50)], 60)).toMatchObject({ improved: true });
    expect(status([phq9(10, 1), phq9(6, 50)], 60)).toMatchObject({ improved: false });
    // An improvement that did not last to the last score of the eight weeks is not one.
    expect(status([phq9(18, 1), phq9(8, 20), phq9(16, 50)], 60)).toMatchObject({ improved: false });
    // A score after the eight weeks does not count.
    expect(status([phq9(18, 1), phq9(17, 50), phq9(4, 58)], 60)).toMatchObject({ improved: false });
  });

  it('counts a user with no later score as not improved, and has no outcome without a baseline in the first two weeks', () => {
    expect(status([phq9(18, 1)], 60)).toMatchObject({ status: 'known', improved: false, change: null });
    expect(status([phq9(18, 14), phq9(2, 40)], 80)).toEqual({ status: 'no_baseline' });
  });

  it('reads GAD-7 down 4 points, with no halving rule', () => {
    expect(status([gad7(12, 1), gad7(8, 40)], 60, 'gad7_reliable_improvement')).toMatchObject({ improved: true });
    expect(status([gad7(6, 1), gad7(3, 40)], 60, 'gad7_reliable_improvement')).toMatchObject({ improved: false });
  });
});
