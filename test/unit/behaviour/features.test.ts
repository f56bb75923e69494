import { featureDeltas, mergeFeatureState, userFeatures } from '../../../functions/domain/behaviour/features';
import type { StoredEvent } from '../../../functions/domain/events/schema';

const DAY = 86_400_000;
const START = Date.UTC(2026, 9, 1, 12);
let id = 0;
function event(type: string, attributes: object, day: number, subject = 'a'): StoredEvent {
  id += 1;
  const at = new Date(START + day * DAY).toISOString();
  return { v: 1, eventId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, type, occurredAt: at, receivedAt: at, subject, session: 's', attributes, context: {} } as StoredEvent;
}
const mood = (valence: number, day: number) => event('mood.reported', { valence, arousal: 0.5 }, day);
const ended = (durationSec: number, completed: boolean, day: number) => event('session.ended', { scenarioId: 'x', durationSec, activeSec: durationSec, completed }, day);

describe('user features', () => {
  it('fits exact lines: mood up 0.1 a day is +0.7 a week, sessions 10 s longer a day are +70 s a week', () => {
    const events = [0, 1, 2, 3].flatMap((day) => [mood(-0.5 + 0.1 * day, day), ended(100 + 10 * day, day % 2 === 0, day)]);
    const features = userFeatures(featureDeltas(events).get('a')!, START + 3 * DAY);

    expect(features.moodSlope).toBeCloseTo(0.7, 9);
    expect(features.moodValence).toBeCloseTo(-0.35, 9);
    expect(features.sessionDurationTrend).toBeCloseTo(70, 6);
    expect(features.sessionDurationSec).toBe(115);
    expect(features.completionRate).toBe(0.5);
    expect(features.daysActive).toBe(4);
  });

  it('merges parts into exactly the state of the whole, whatever the split and order', () => {
    const events = [
      mood(0.1, 5),
      event('assessment.completed', { instrument: 'GAD-7', score: 12 }, 1),
      ended(200, true, 2),
      event('assessment.completed', { instrument: 'GAD-7', score: 6 }, 20),
      event('assessment.completed', { instrument: 'GAD-7', score: 9 }, 10),
      event('choice.made', { scenarioId: 'x', sceneId: 'y', choiceId: 'z', choiceType: 'narrative', therapeuticValue: 0.1, responseTimeMs: 800 }, 3),
      mood(0.4, 1),
    ];
    const whole = featureDeltas(events).get('a')!;
    const parts = [events.slice(0, 3), events.slice(3, 5), events.slice(5)].map((part) => featureDeltas(part).get('a')!);

    expect(mergeFeatureState(mergeFeatureState(parts[2]!, parts[0]!), parts[1]!)).toEqual(whole);
    expect(userFeatures(whole, START + 30 * DAY).assessments).toEqual({ 'GAD-7': { baseline: 12, latest: 6, change: -6 } });
    expect(whole.days).toEqual([1, 2, 3, 5, 10, 20].map((day) => Math.floor((START + day * DAY) / DAY)));
  });

  it('says null, not zero, for what a user never did, and rates a new user over a whole week', () => {
    const features = userFeatures(featureDeltas([event('session.started', { scenarioId: 'x', channel: 'app' }, 0)]).get('a')!, START + DAY);

    expect(features).toMatchObject({ sessionsPerWeek: 1, completionRate: null, moodValence: null, moodSlope: null, sessionDurationTrend: null, choiceResponseMs: null, interventionCompletionRate: null, daysSinceLastSession: 1, tenureDays: 1 });
    expect(features.choiceTypeShare.narrative).toBeNull();
  });

  it('keeps each user apart, and shares of intervention types and their completion', () => {
    const delivered = (interventionType: string, completion: string, subject: string) => event('intervention.delivered', { interventionType, urgency: 'standard', completion }, 1, subject);
    const deltas = featureDeltas([delivered('breathing', 'completed', 'a'), delivered('grounding', 'skipped', 'a'), delivered('breathing', 'completed', 'b')]);
    const a = userFeatures(deltas.get('a')!, START + 7 * DAY);

    expect([...deltas.keys()]).toEqual(['a', 'b']);
    expect(a.interventionShare).toMatchObject({ breathing: 0.5, grounding: 0.5, mindfulness: 0 });
    expect(a.interventionCompletionRate).toBe(0.5);
  });

  it("keeps the platform of the user's latest event that names one, whatever order the parts merge in", () => {
    const on = (platform: string | undefined, day: number) => ({ ...mood(0, day), context: platform ? { platform } : {} }) as StoredEvent;
    const parts = [[on('ios', 1)], [on('android', 4), on(undefined, 6)], [on('web', 2)]].map((part) => featureDeltas(part).get('a')!);

    expect(mergeFeatureState(mergeFeatureState(parts[0]!, parts[1]!), parts[2]!).platform?.value).toBe('android');
    expect(mergeFeatureState(parts[2]!, mergeFeatureState(parts[1]!, parts[0]!)).platform?.value).toBe('android');
    expect(featureDeltas([on(undefined, 1)]).get('a')!.platform).toBeNull();
  });
});
