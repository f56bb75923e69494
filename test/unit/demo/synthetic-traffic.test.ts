import { MAX_DAYS, RESEARCH_CONSENT_SHARE, joinsResearch, mulberry32, syntheticTraffic } from '../../../functions/domain/demo/synthetic-traffic';
import { EVENT_TYPES, eventSchema, type IncomingEvent } from '../../../functions/domain/events/schema';
import { MAX_AGE_MS } from '../../../functions/domain/events/validate';

const NOW = new Date('2026-11-20T10:30:00.000Z');
const clock = { now: () => NOW };
const DAY_MS = 86_400_000;

function generate(seed: number, users: number, days: number): IncomingEvent[] {
  return [...syntheticTraffic({ seed, clock, users, days })];
}

describe('syntheticTraffic', () => {
  // Prepare once: a few hundred users over the default three weeks is tens of thousands of events.
  const events = generate(7, 300, 21);

  it('yields only events the v1 contract accepts', () => {
    expect(events.length).toBeGreaterThan(5_000);
    const invalid = events.filter((event) => !eventSchema.safeParse(event).success);
    expect(invalid).toEqual([]);
  });

  it('keeps every attribute the contract names, so nothing is silently stripped', () => {
    for (const event of events.slice(0, 2_000)) expect(eventSchema.parse(event)).toEqual(event);
  });

  it('yields all 9 event types, crisis signals the rarest', () => {
    const counts = new Map<string, number>();
    for (const event of events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...EVENT_TYPES].sort());
    const crisis = counts.get('crisis.signal') ?? 0;
    expect(crisis).toBeLessThan(events.length / 500);
    expect(Math.min(...counts.values())).toBe(crisis);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    // Compared as JSON: a deep toEqual over tens of thousands of events takes seconds.
    expect(JSON.stringify(generate(7, 300, 21))).toBe(JSON.stringify(events));
    expect(generate(8, 20, 3)).not.toEqual(generate(7, 20, 3));
  });

  it('uses pseudonymous demo user ids, as many users as asked and no more', () => {
    const users = new Set(events.map((event) => event.userId));
    for (const user of users) expect(user).toMatch(/^demo-user-\d{6}$/);
    expect(users.size).toBeLessThanOrEqual(300);
    expect(users.size).toBeGreaterThan(270);
  });

  it('places every event inside the window: within the last days, never in the future', () => {
    const times = events.map((event) => Date.parse(event.occurredAt));
    expect(Math.max(...times)).toBeLessThanOrEqual(NOW.getTime());
    expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW.getTime() - 21 * DAY_MS);
    // Spread over the whole window, not bunched at one end.
    expect(Math.min(...times)).toBeLessThan(NOW.getTime() - 20 * DAY_MS);
    expect(Math.max(...times)).toBeGreaterThan(NOW.getTime() - DAY_MS);
  });

  it('stays inside the ingest freshness window at the longest history it allows', () => {
    const oldest = Math.min(...generate(3, 20, MAX_DAYS).map((event) => Date.parse(event.occurredAt)));
    expect(NOW.getTime() - oldest).toBeLessThan(MAX_AGE_MS - DAY_MS / 2);
  });

  it('refuses a window the ingest would reject and a user count it cannot name', () => {
    expect(() => generate(1, 10, MAX_DAYS + 1)).toThrow(RangeError);
    expect(() => generate(1, 0, 7)).toThrow(RangeError);
  });

  it('yields events in time order within each day', () => {
    let previous = '';
    let outOfOrder = 0;
    for (const event of events) {
      if (event.occurredAt < previous) outOfOrder += 1;
      previous = event.occurredAt;
    }
    // Only sessions that run past midnight step back, at the start of the next day.
    expect(outOfOrder).toBeLessThanOrEqual(21);
  });

  it('gives each session a start and, when it has finished, an end after it', () => {
    const bySession = new Map<string, IncomingEvent[]>();
    for (const event of events) bySession.set(event.sessionId, [...(bySession.get(event.sessionId) ?? []), event]);
    for (const sessionEvents of bySession.values()) {
      const started = sessionEvents.filter((event) => event.type === 'session.started');
      const ended = sessionEvents.filter((event) => event.type === 'session.ended');
      expect(started).toHaveLength(1);
      expect(ended.length).toBeLessThanOrEqual(1);
      for (const end of ended) expect(end.occurredAt > (started[0]?.occurredAt ?? '')).toBe(true);
      expect(new Set(sessionEvents.map((event) => event.userId)).size).toBe(1);
    }
  });

  it('gives users platforms ios, android and web', () => {
    expect(new Set(events.map((event) => event.context?.platform))).toEqual(new Set(['ios', 'android', 'web']));
  });

  it('has users who improve and users who deteriorate on PHQ-9', () => {
    const scores = new Map<string, number[]>();
    for (const event of events) {
      if (event.type === 'assessment.completed' && event.attributes.instrument === 'PHQ-9') {
        scores.set(event.userId, [...(scores.get(event.userId) ?? []), event.attributes.score]);
      }
    }
    const changes = [...scores.values()].filter((series) => series.length >= 3).map((series) => (series.at(-1) ?? 0) - (series[0] ?? 0));
    expect(changes.filter((change) => change <= -5).length).toBeGreaterThan(10);
    expect(changes.filter((change) => change >= 4).length).toBeGreaterThan(3);
  });

  it('shows engagement profiles: some users come most days, some lapse', () => {
    const activeDays = new Map<string, Set<number>>();
    for (const event of events) {
      const day = Math.floor((NOW.getTime() - Date.parse(event.occurredAt)) / DAY_MS);
      activeDays.set(event.userId, (activeDays.get(event.userId) ?? new Set()).add(day));
    }
    const lastWeekSilent = [...activeDays.values()].filter((days) => [...days].every((day) => day >= 7) && days.size >= 4);
    expect([...activeDays.values()].filter((days) => days.size >= 15).length).toBeGreaterThan(30);
    expect(lastWeekSilent.length).toBeGreaterThan(10);
  });
});

describe('syntheticTraffic: clinical rates', () => {
  // A population the size of a small clinic's over the default three weeks, on a seed no other test pins.
  const events = generate(11, 1_000, 21);
  const sessions = events.filter((event) => event.type === 'session.started').length;

  it('answers PHQ-9 item 9 above 0 in 7-14 % of administrations, the minority published samples show, and mostly with 1', () => {
    const item9 = events.flatMap((event) => (event.type === 'assessment.completed' && event.attributes.instrument === 'PHQ-9' ? [event.attributes.items?.[8] ?? 0] : []));
    const above0 = item9.filter((answer) => answer > 0);

    expect(item9.length).toBeGreaterThan(1_000);
    expect(above0.length / item9.length).toBeGreaterThan(0.07);
    expect(above0.length / item9.length).toBeLessThan(0.14);
    expect(above0.filter((answer) => answer === 1).length / above0.length).toBeGreaterThan(0.75);
  });

  it('sends about one crisis signal per 1,000 sessions (0.4-2)', () => {
    const crises = events.filter((event) => event.type === 'crisis.signal');

    expect(sessions).toBeGreaterThan(5_000);
    expect((1_000 * crises.length) / sessions).toBeGreaterThan(0.4);
    expect((1_000 * crises.length) / sessions).toBeLessThan(2);
  });

  it('ends fewer than 1 in 1,000 choices in crisis, the state the emotional-state-crisis rule pages on', () => {
    const choices = events.filter((event) => event.type === 'choice.made');
    const inCrisis = choices.filter((event) => event.type === 'choice.made' && event.attributes.emotionalStateAfter === 'crisis');

    expect(choices.length).toBeGreaterThan(10_000);
    expect(inCrisis.length / choices.length).toBeLessThan(0.001);
  });
});

describe('joinsResearch', () => {
  const ids = Array.from({ length: 2_000 }, (_, index) => `demo-user-${String(index + 1).padStart(6, '0')}`);

  it(`puts about ${RESEARCH_CONSENT_SHARE * 100} % of demo users in research, the same users every time`, () => {
    const researchers = ids.filter(joinsResearch);

    expect(researchers.length / ids.length).toBeGreaterThan(RESEARCH_CONSENT_SHARE - 0.04);
    expect(researchers.length / ids.length).toBeLessThan(RESEARCH_CONSENT_SHARE + 0.04);
    expect(ids.filter(joinsResearch)).toEqual(researchers);
  });

  it('spreads them over the population rather than taking a block of ids', () => {
    const firstHalf = ids.slice(0, 1_000).filter(joinsResearch).length;
    const secondHalf = ids.slice(1_000).filter(joinsResearch).length;

    expect(Math.abs(firstHalf - secondHalf)).toBeLessThan(80);
    expect(firstHalf).toBeGreaterThan(0);
  });

  it('leaves out any id the demo does not make', () => {
    expect(['user-7', 'demo-user-1', 'demo-user-0000012', ''].filter(joinsResearch)).toEqual([]);
  });
});

describe('mulberry32', () => {
  it('repeats for a seed and stays in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const draws = Array.from({ length: 1_000 }, () => a());
    expect(draws).toEqual(Array.from({ length: 1_000 }, () => b()));
    for (const draw of draws) expect(draw >= 0 && draw < 1).toBe(true);
  });
});
