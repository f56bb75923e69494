import type { Clock } from '../../ports';
import {
  CHOICE_TYPES,
  EMOTIONAL_STATES,
  INSTRUMENTS,
  INTERVENTION_TYPES,
  type AttributesOf,
  type EventContext,
  type EventType,
  type IncomingEvent,
  type Instrument,
} from '../events/schema';

/**
 * Synthetic traffic for demos and load: weeks of sessions of thousands of pseudonymous users,
 * shaped so the dashboards have something to show (engagement that lapses, outcomes that
 * improve or deteriorate, the odd crisis). Pure and deterministic: the same seed, clock and
 * options give the same events, so a demo can be replayed and a test can pin it.
 */

// Read once: under jest's VM contexts each lookup of a global goes through the context's
// interceptor, which made the generator several times slower in the tests that score it.
const { PI, cos, exp, floor, imul, log, max, min, round, sqrt } = Math;

export type Random = () => number;

/** mulberry32: tiny, fast and good enough for synthetic data; not for anything secret. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// Ingest refuses events older than 30 days; a day of margin covers a slow demo run.
export const MAX_DAYS = 29;
export const MAX_USERS = 999_999;

/**
 * The share of demo users who also consent to research (analytics and safety monitoring: all of
 * them), enough for the research report to release its metrics over k users. Decided from the
 * user's number alone, by a generator of its own: it draws nothing from the traffic's stream, so
 * who consents changes no event, and the same users consent whatever the seed.
 */
export const RESEARCH_CONSENT_SHARE = 0.4;

const DEMO_USER_ID = /^demo-user-(\d{6})$/;

const demoUserId = (index: number): string => `demo-user-${String(index).padStart(6, '0')}`;

/** Whether the demo user of this id consents to research; false for any id the demo does not make. */
export function joinsResearch(userId: string): boolean {
  const index = DEMO_USER_ID.exec(userId)?.[1];
  return index !== undefined && mulberry32(Number(index))() < RESEARCH_CONSENT_SHARE;
}

export interface SyntheticTrafficOptions {
  readonly seed: number;
  readonly clock: Clock;
  readonly users?: number;
  readonly days?: number;
}

type Engagement = 'daily' | 'weekly' | 'lapsing';
type Outcome = 'improving' | 'stable' | 'deteriorating';
type EmotionalState = (typeof EMOTIONAL_STATES)[number];

/** What a session's events depend on of its user (the demo's users, and the planted population's). */
export interface SessionUser {
  readonly id: string;
  readonly outcome: Outcome;
  /** Added to the chance of leaving a session before its last scene. */
  readonly abandonBias: number;
  readonly context: EventContext;
  readonly nextAssessmentDay: Record<Instrument, number>;
  readonly goalProgress: Map<string, number>;
}

interface DemoUser extends SessionUser {
  readonly engagement: Engagement;
  readonly joinDay: number;
  readonly lapseDay: number;
  /** Hour of the day (UTC) around which this user opens the app. */
  readonly usualHourUtc: number;
  /** 0 (well) .. 1 (severe) on the user's first day, and its change per day. */
  readonly baseline: number;
  readonly slopePerDay: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const SCENARIOS = ['forest-of-calm', 'exam-stress', 'social-cafe', 'sleep-harbour', 'grief-lighthouse', 'work-boundaries'] as const;
const CHANNELS = ['app', 'notification', 'deep-link'] as const;
const GOALS = ['goal-sleep-routine', 'goal-social-confidence', 'goal-panic-skills', 'goal-daily-mindfulness'] as const;
const ASSESSMENT_EVERY_DAYS: Record<Instrument, number> = { 'PHQ-9': 7, 'GAD-7': 7, 'WHO-5': 14 };
// Locale, time zone and its usual UTC offset (DST ignored: it only shapes the hour of day).
export const LOCALES = [
  ['en-GB', 'Europe/London', 0],
  ['en-US', 'America/New_York', -5],
  ['en-US', 'America/Los_Angeles', -8],
  ['de-DE', 'Europe/Berlin', 1],
  ['fr-FR', 'Europe/Paris', 1],
  ['es-ES', 'Europe/Madrid', 1],
] as const;
export const APP_VERSIONS = ['4.2.0', '4.2.1', '4.3.0'] as const;
const EVERYDAY_INTERVENTIONS = INTERVENTION_TYPES.filter((type) => type !== 'crisis_support');
const DISTRESSED: ReadonlySet<EmotionalState> = new Set(['anxious', 'overwhelmed', 'distressed', 'crisis']);
// Choices that practise a skill tend to settle the player; narrative ones mostly do not.
const CALMING: Record<(typeof CHOICE_TYPES)[number], number> = {
  narrative: 0.1,
  therapeutic: 0.4,
  skill_building: 0.3,
  emotional_regulation: 0.45,
  social_interaction: 0.2,
};

/*
 * Crisis is rare: the target is about one crisis.signal per 1,000 sessions (the classifier's,
 * which follow a choice that ends in crisis, and self-reports by the most severe users), so a
 * demo day of some 850 sessions holds about one, as a clinic's would, and a crisis a reader posts
 * stands out. Both come only from severe users, so they cluster in the same few people.
 */
/** Per distressed choice, scaled by how far the user's severity is past 0.6. */
const CRISIS_FROM_DISTRESS = 0.015;
/** Per session of a user of severity over 0.6, at its start. */
const SELF_REPORTED_CRISIS = 0.0025;

export const clamp = (value: number, lower: number, upper: number) => min(upper, max(lower, value));
const round2 = (value: number) => round(value * 100) / 100;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[floor(random() * items.length)] as T;
}

export function weighted<T extends string>(random: Random, weights: Readonly<Record<T, number>>): T {
  const entries = Object.entries(weights) as [T, number][];
  let roll = random() * entries.reduce((total, [, weight]) => total + weight, 0);
  for (const [item, weight] of entries) {
    roll -= weight;
    if (roll < 0) return item;
  }
  return (entries[entries.length - 1] as [T, number])[0];
}

/** Standard normal by Box-Muller. */
export function normal(random: Random): number {
  return sqrt(-2 * log(1 - random())) * cos(2 * PI * random());
}

function uuid(random: Random): string {
  const bytes = Array.from({ length: 16 }, () => floor(random() * 256));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function makeUser(random: Random, index: number, days: number): DemoUser {
  const engagement = weighted<Engagement>(random, { daily: 0.25, weekly: 0.45, lapsing: 0.3 });
  const outcome = weighted<Outcome>(random, { improving: 0.45, stable: 0.35, deteriorating: 0.2 });
  const [locale, timezone, utcOffset] = pick(random, LOCALES);
  const platform = weighted(random, { ios: 0.45, android: 0.4, web: 0.15 });
  // Most users were already there when the window opens; the rest join along the way.
  const joinDay = random() < 0.6 ? 0 : floor(random() * days * 0.6);
  const slopeMagnitude = 0.008 + random() * 0.014;
  const slopePerDay = outcome === 'improving' ? -slopeMagnitude : outcome === 'deteriorating' ? slopeMagnitude : normal(random) * 0.002;
  return {
    id: demoUserId(index),
    engagement,
    outcome,
    abandonBias: engagement === 'lapsing' ? 0.1 : 0,
    joinDay,
    lapseDay: joinDay + 2 + floor(random() * max(1, (days - joinDay) * 0.5)),
    usualHourUtc: (7 + random() * 15 - utcOffset + 24) % 24,
    context: { platform, locale, timezone, appVersion: pick(random, APP_VERSIONS) },
    baseline: clamp(outcome === 'improving' ? 0.45 + random() * 0.4 : 0.2 + random() * 0.5, 0, 1),
    slopePerDay,
    nextAssessmentDay: { 'PHQ-9': joinDay, 'GAD-7': joinDay, 'WHO-5': joinDay },
    goalProgress: new Map(),
  };
}

function activeProbability(user: DemoUser, day: number): number {
  if (user.engagement === 'daily') return 0.85;
  if (user.engagement === 'weekly') return 0.3;
  return day < user.lapseDay ? 0.7 : 0.04;
}

/**
 * PHQ-9 item 9 (thoughts of being better off dead or of self-harm) is answered above 0 far less
 * often than the other items, and more often the more severe the depression. Outpatients who fill
 * in the PHQ-9 at every visit answer it above 0 in a minority of administrations (Simon et al.
 * 2013, Psychiatric Services 64:1195, 207,265 PHQ-9s of 84,418 outpatients; the samples they cite
 * answer "more than half the days" or worse in up to 10 %); a digital programme's users are milder
 * on average. The target here is about 10 % of administrations above 0 (about 5 % at the mildest
 * severity, about 20 % at the most severe), one in ten of those 2 or 3: a mean of
 * 1.2 x severity - 1.25 and a wider spread than the other items' give that once rounded.
 */
const item9Spread = (severity: number) => ({ mean: 1.2 * severity - 1.25, sd: 0.9 });

/** Per-item scores whose sum is the score, each item drawn around the user's severity. */
function assessment(random: Random, instrument: Instrument, severity: number): AttributesOf<'assessment.completed'> {
  const spec = INSTRUMENTS[instrument];
  // WHO-5 measures well-being: high is good, the other two measure symptoms.
  const level = instrument === 'WHO-5' ? 1 - severity : severity;
  const items = Array.from({ length: spec.items }, (_, item) => {
    const { mean, sd } = instrument === 'PHQ-9' && item === 8 ? item9Spread(level) : { mean: level * spec.maxItem, sd: 0.6 };
    return clamp(round(mean + normal(random) * sd), 0, spec.maxItem);
  });
  return { instrument, score: items.reduce((total, item) => total + item, 0), items };
}

function mood(random: Random, severity: number, state: EmotionalState): AttributesOf<'mood.reported'> {
  const stress = EMOTIONAL_STATES.indexOf(state) / (EMOTIONAL_STATES.length - 1);
  return {
    valence: round2(clamp(0.6 - 1.3 * severity - 0.4 * stress + normal(random) * 0.15, -1, 1)),
    arousal: round2(clamp(0.35 + 0.5 * stress + normal(random) * 0.1, 0, 1)),
    ...(random() < 0.5 ? { dominance: round2(clamp(0.7 - 0.6 * severity + normal(random) * 0.1, 0, 1)) } : {}),
  };
}

function nextState(random: Random, state: EmotionalState, calming: number, severity: number): EmotionalState {
  const index = EMOTIONAL_STATES.indexOf(state);
  // Crisis is reached only from distress, and only by users who are doing badly.
  if (state === 'distressed' && random() < CRISIS_FROM_DISTRESS * max(0, severity - 0.6)) return 'crisis';
  if (random() < calming) return EMOTIONAL_STATES[max(0, index - 1)] as EmotionalState;
  if (random() < 0.12 * severity) return EMOTIONAL_STATES[min(4, index + 1)] as EmotionalState;
  return state;
}

/** One session's events, in time order, starting at `start` (epoch ms). */
export function session(random: Random, user: SessionUser, severity: number, start: number, day: number): IncomingEvent[] {
  const events: IncomingEvent[] = [];
  const sessionId = `s-${uuid(random).slice(0, 18)}`;
  const emit = <T extends EventType>(type: T, at: number, attributes: AttributesOf<T>) => {
    events.push({
      eventId: uuid(random),
      type,
      occurredAt: new Date(at).toISOString(),
      userId: user.id,
      sessionId,
      attributes,
      context: user.context,
    } as IncomingEvent);
  };
  const scenarioId = pick(random, SCENARIOS);
  let t = start;
  let state = EMOTIONAL_STATES[clamp(round(severity * 3.5 + normal(random) * 0.8), 0, 4)] as EmotionalState;
  emit('session.started', t, { scenarioId, channel: pick(random, CHANNELS) });
  if (severity > 0.6 && random() < SELF_REPORTED_CRISIS) {
    emit('crisis.signal', t + 2_000, { severity: weighted(random, { moderate: 0.6, high: 0.4 }), source: 'self_report' });
  }
  if (random() < 0.6) emit('mood.reported', (t += 15_000), mood(random, severity, state));

  const choices = 4 + floor(random() * 9);
  const abandonAt = random() < 0.1 + 0.15 * severity + user.abandonBias ? floor(random() * choices) : choices;
  let lastBeat = start;
  for (let scene = 0; scene < abandonAt; scene += 1) {
    const responseTimeMs = round(clamp(3_500 * (1 + EMOTIONAL_STATES.indexOf(state) * 0.3) * exp(normal(random) * 0.5), 300, 120_000));
    t += 10_000 + random() * 30_000 + responseTimeMs;
    const choiceType = weighted(random, { narrative: 0.35, therapeutic: 0.2, skill_building: 0.15, emotional_regulation: 0.15, social_interaction: 0.15 });
    const after = nextState(random, state, CALMING[choiceType], severity);
    const therapeuticValue = round2(clamp(CALMING[choiceType] * 1.6 + (user.outcome === 'improving' ? 0.1 : 0) + normal(random) * 0.12, 0, 1));
    emit('choice.made', t, {
      scenarioId,
      sceneId: `scene-${scene + 1}`,
      choiceId: `choice-${scene + 1}-${1 + floor(random() * 3)}`,
      choiceType,
      therapeuticValue,
      responseTimeMs,
      emotionalStateBefore: state,
      emotionalStateAfter: after,
    });
    state = after;
    if (state === 'crisis') {
      emit('crisis.signal', t + 1_000, { severity: weighted(random, { high: 0.7, imminent: 0.3 }), source: 'classifier' });
    }
    if (DISTRESSED.has(state) && random() < 0.5) {
      const completion = weighted(random, { completed: 0.75 - 0.25 * severity, skipped: 0.15, abandoned: 0.1 + 0.15 * severity });
      const rated = completion === 'completed' && random() < 0.7;
      const rating = clamp(round(3 + (user.outcome === 'improving' ? 1 : user.outcome === 'deteriorating' ? -1 : 0) + normal(random) * 0.8), 1, 5);
      emit('intervention.delivered', (t += 2_000), {
        interventionType: state === 'crisis' ? 'crisis_support' : pick(random, EVERYDAY_INTERVENTIONS),
        urgency: state === 'crisis' ? 'crisis' : state === 'distressed' ? 'elevated' : 'standard',
        completion,
        ...(rated ? { effectivenessRating: rating } : {}),
      });
      t += 60_000 + random() * 120_000;
      if (completion === 'completed') state = nextState(random, state, 0.8, severity);
    }
    // The app sends a heartbeat every two minutes while a scenario is on screen.
    for (; t - lastBeat >= 120_000; lastBeat += 120_000) {
      emit('engagement.heartbeat', lastBeat + 120_000, { screen: 'scenario', activeSec: round(60 + random() * 60) });
    }
  }

  const completed = abandonAt === choices;
  t += 5_000;
  if (completed && random() < 0.4) emit('mood.reported', t, mood(random, severity, state));
  for (const instrument of Object.keys(INSTRUMENTS) as Instrument[]) {
    if (completed && day >= user.nextAssessmentDay[instrument]) {
      emit('assessment.completed', (t += 90_000), assessment(random, instrument, severity));
      user.nextAssessmentDay[instrument] = day + ASSESSMENT_EVERY_DAYS[instrument];
    }
  }
  if (completed && random() < 0.2) {
    const goalId = pick(random, GOALS);
    const progress = min(1, (user.goalProgress.get(goalId) ?? 0) + 0.1 + random() * 0.2);
    user.goalProgress.set(goalId, progress);
    const milestone = progress >= 1 ? 'goal_completed' : random() < 0.2 ? 'breakthrough' : 'skill_acquired';
    emit('progress.milestone', (t += 1_000), { goalId, milestone, progress: round2(progress) });
  }
  const durationSec = round((t - start) / 1_000);
  emit('session.ended', (t += 1_000), { scenarioId, durationSec, activeSec: floor(durationSec * (0.6 + random() * 0.35)), completed });
  return events;
}

// Every occurredAt comes from toISOString, so string order is time order.
export const byTime = (a: IncomingEvent, b: IncomingEvent) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0);

/**
 * Yields the events of the last `days` days before the clock's now, a day at a time and in time
 * order within each day, so memory stays at one day's events whatever the size of the run.
 */
export function* syntheticTraffic(options: SyntheticTrafficOptions): Generator<IncomingEvent> {
  const users = options.users ?? 2_000;
  const days = options.days ?? 21;
  if (!Number.isInteger(users) || users < 1 || users > MAX_USERS) throw new RangeError(`users must be an integer 1..${MAX_USERS}, got ${users}`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new RangeError(`days must be an integer 1..${MAX_DAYS}, got ${days}`);

  const now = options.clock.now().getTime();
  const windowStart = now - days * DAY_MS;
  const random = mulberry32(options.seed);
  const population = Array.from({ length: users }, (_, index) => makeUser(random, index + 1, days));

  for (let day = 0; day < days; day += 1) {
    const dayStart = windowStart + day * DAY_MS;
    const events: IncomingEvent[] = [];
    for (const user of population) {
      if (day < user.joinDay || random() >= activeProbability(user, day)) continue;
      const severity = clamp(user.baseline + user.slopePerDay * (day - user.joinDay) + normal(random) * 0.04, 0, 1);
      const sessions = user.engagement === 'daily' && random() < 0.25 ? 2 : 1;
      for (let count = 0; count < sessions; count += 1) {
        const hour = (user.usualHourUtc + normal(random) * 2 + count * 6 + 24) % 24;
        events.push(...session(random, user, severity, dayStart + floor(hour * HOUR_MS), day));
      }
    }
    // A session late on the last day may run past now: those events have not happened yet.
    yield* events.filter((event) => Date.parse(event.occurredAt) <= now).sort(byTime);
  }
}
