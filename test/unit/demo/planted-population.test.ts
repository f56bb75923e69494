import { ARCHETYPES, ARCHETYPE_NAMES, OUTCOME_MODEL, plantedPopulation } from '../../../functions/domain/demo/planted-population';
import type { IncomingEvent } from '../../../functions/domain/events/schema';
import { validateEvent } from '../../../functions/domain/events/validate';

const END = new Date('2026-11-30T00:00:00Z');
const DAY = 86_400_000;

describe('the planted population', () => {
  it('plants each archetype in its share, within 3 points over 4,000 users, and the same truth for the same seed', () => {
    const { truth } = plantedPopulation({ seed: 7, end: END, users: 4_000, weeks: 12 });

    for (const name of ARCHETYPE_NAMES) expect(Math.abs(truth.archetypes[name].plantedShare - ARCHETYPES[name].share)).toBeLessThan(0.03);
    expect(plantedPopulation({ seed: 7, end: END, users: 4_000, weeks: 12 }).truth).toEqual(truth);
    expect(plantedPopulation({ seed: 8, end: END, users: 4_000, weeks: 12 }).truth.users).not.toEqual(truth.users);
  });

  it('draws outcomes from the planted model: observed rates follow the probabilities, and the best accuracy is their mean margin', () => {
    const { truth } = plantedPopulation({ seed: 3, end: END, users: 6_000 });
    const bands = [0, 0.25, 0.5, 0.75, 1];
    for (let b = 0; b < bands.length - 1; b += 1) {
      const band = truth.users.filter((user) => user.probability >= bands[b]! && user.probability < bands[b + 1]!);
      const observed = band.filter((user) => user.improved).length / band.length;
      const expected = band.reduce((total, user) => total + user.probability, 0) / band.length;
      expect(band.length).toBeGreaterThan(300);
      expect(Math.abs(observed - expected)).toBeLessThan(0.05);
    }
    expect(truth.bestPossibleAccuracy).toBeCloseTo(truth.users.reduce((total, user) => total + Math.max(user.probability, 1 - user.probability), 0) / truth.users.length, 12);
    expect(truth.bestPossibleAccuracy).toBeGreaterThan(0.7);
  });

  describe('its events', () => {
    const weeks = 10;
    const { truth, events } = plantedPopulation({ seed: 11, end: END, users: 150, weeks });
    const all: IncomingEvent[] = [...events()];
    const start = END.getTime() - weeks * 7 * DAY;
    const weekOf = (event: IncomingEvent) => Math.floor((Date.parse(event.occurredAt) - start) / (7 * DAY));
    const archetypeOf = new Map(truth.users.map((user) => [user.userId, user.archetype]));
    const sessionsIn = (archetype: string, week: number) =>
      all.filter((event) => event.type === 'session.started' && archetypeOf.get(event.userId) === archetype && weekOf(event) === week).length /
      truth.users.filter((user) => user.archetype === archetype).length;

    it('are valid events (any age) within the history, and the same for the same seed', () => {
      const times = all.map((event) => Date.parse(event.occurredAt));
      expect(all.every((event) => validateEvent(event, END, { freshness: false }).ok)).toBe(true);
      expect(Math.min(...times)).toBeGreaterThanOrEqual(start);
      expect(Math.max(...times)).toBeLessThanOrEqual(END.getTime());
      expect([...plantedPopulation({ seed: 11, end: END, users: 150, weeks }).events()].slice(0, 500)).toEqual(all.slice(0, 500));
    });

    it('follow each archetype\'s sessions per week', () => {
      expect(sessionsIn('fading', 0)).toBeGreaterThan(3 * sessionsIn('fading', 5));
      expect(sessionsIn('late_starter', 4)).toBeGreaterThan(3 * sessionsIn('late_starter', 1));
      expect(sessionsIn('bursty', 2)).toBeGreaterThan(3 * sessionsIn('bursty', 3));
      expect(Math.abs(sessionsIn('steady', 1) - sessionsIn('steady', 6))).toBeLessThan(1.5);
    });

    it('move improving users\' PHQ-9 down by half or more by week 8, and the others\' by less than 6 points', () => {
      const phq9 = new Map<string, { at: number; score: number }[]>();
      for (const event of all) {
        if (event.type !== 'assessment.completed' || event.attributes.instrument !== 'PHQ-9') continue;
        phq9.set(event.userId, [...(phq9.get(event.userId) ?? []), { at: Date.parse(event.occurredAt), score: event.attributes.score }]);
      }
      let [agree, scored] = [0, 0];
      for (const user of truth.users) {
        const scores = phq9.get(user.userId) ?? [];
        const baseline = scores[0];
        const week8 = scores.find((score) => score.at - start >= OUTCOME_MODEL.weeksToOutcome * 7 * DAY);
        if (!baseline || !week8 || baseline.at - start > 7 * DAY) continue;
        const drop = baseline.score - week8.score;
        const reliable = drop >= 6 || drop >= baseline.score / 2;
        scored += 1;
        if (reliable === user.improved) agree += 1;
      }
      expect(scored).toBeGreaterThan(50);
      expect(agree / scored).toBeGreaterThan(0.9);
    });
  });
});
