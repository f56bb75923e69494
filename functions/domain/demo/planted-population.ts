import type { IncomingEvent } from '../events/schema';
import { APP_VERSIONS, LOCALES, byTime, clamp, mulberry32, normal, pick, session, weighted, type Random, type SessionUser } from './synthetic-traffic';

/*
 * A synthetic population with ground truth, for the behaviour analysis (issue 16): weeks of
 * history in which each user follows a planted engagement archetype and reaches reliable
 * improvement or not by a planted outcome model, so the archetypes the clustering recovers and
 * the outcomes the model predicts can be scored against what was planted. Users start on
 * different days of the first START_SPREAD_DAYS, so that a model can be trained on the earlier
 * starters and tested on the later ones. Pure and deterministic: the same seed, end and options
 * give the same events and the same truth.
 */

// Read once: under jest's VM contexts each lookup of a global goes through the context's
// interceptor, which made the generator several times slower in the tests that score it.
const { exp, floor, max, min } = Math;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const ARCHETYPE_NAMES = ['steady', 'fading', 'bursty', 'late_starter', 'crisis_prone'] as const;
export type Archetype = (typeof ARCHETYPE_NAMES)[number];

export interface ArchetypeParameters {
  /** Share of the population. */
  readonly share: number;
  /** Expected sessions in week `week` (0-based) of the user's history. */
  readonly sessionsPerWeek: (week: number) => number;
  /** Added to a session's chance of being left before its last scene. */
  readonly abandonBias: number;
  /** Severity (0 well .. 1 severe) at the start, drawn uniformly from this range. */
  readonly baseline: readonly [number, number];
}

/** The planted archetypes (README "Behaviour analysis" documents them). */
export const ARCHETYPES: Readonly<Record<Archetype, ArchetypeParameters>> = {
  steady: { share: 0.3, sessionsPerWeek: () => 4, abandonBias: 0, baseline: [0.5, 0.85] },
  fading: { share: 0.25, sessionsPerWeek: (week) => 5 * 0.6 ** week, abandonBias: 0.15, baseline: [0.5, 0.85] },
  bursty: { share: 0.15, sessionsPerWeek: (week) => (week % 2 === 0 ? 7 : 0.5), abandonBias: 0.05, baseline: [0.5, 0.85] },
  late_starter: { share: 0.15, sessionsPerWeek: (week) => (week < 4 ? 1 : 7), abandonBias: 0, baseline: [0.5, 0.85] },
  crisis_prone: { share: 0.15, sessionsPerWeek: () => 3, abandonBias: 0.35, baseline: [0.7, 0.92] },
};

const ARCHETYPE_SHARES = Object.fromEntries(ARCHETYPE_NAMES.map((name) => [name, ARCHETYPES[name].share])) as Record<Archetype, number>;

/** Users start on a day drawn uniformly from the first this many days of the history. */
export const START_SPREAD_DAYS = 28;

/**
 * The planted outcome model, on what is observable in a user's first two weeks (days 0-13 counted
 * from their first session, as the product counts them from their first event): log-odds of
 * reliable improvement by week 8 = intercept + scoreWeight x (baseline PHQ-9 - meanScore) +
 * engagementWeight x (sessions completed in days 7-13 - meanCompleted) + dropWeight x (sessions
 * completed in days 0-6 - those in days 7-13), where the baseline is the first PHQ-9 of those two
 * weeks (a user without one counts at the mean, and has no outcome to score). Engagement is read
 * in the second week, and a fall from the first counts against: a user fading out is still busy
 * in the first week, and drops out before a later score could show improvement. The outcome is drawn at the end of day 13, so nothing before it depends on it. From
 * day 14 an improving user's severity falls by `improvedDrop` of its baseline over
 * `improvementDays` (a PHQ-9 drop of 50 % or more: reliable improvement); the others' drifts by
 * N(0, driftSd) a day.
 */
export const OUTCOME_MODEL = {
  intercept: -0.9,
  scoreWeight: -0.55,
  meanScore: 16,
  engagementWeight: 1.5,
  meanCompleted: 2,
  dropWeight: -1,
  decisionDay: 14,
  improvedDrop: 0.75,
  improvementDays: 10,
  weeksToOutcome: 8,
  driftSd: 0.0004,
  dailyNoiseSd: 0.02,
} as const;

export interface PlantedUser {
  readonly userId: string;
  readonly archetype: Archetype;
  /** The day of the history (0-based) the user starts on. */
  readonly startDay: number;
  readonly baselineSeverity: number;
  /** The first PHQ-9 score of the user's first two weeks, null without one. */
  readonly baselineScore: number | null;
  /** Sessions completed in the first and in the second of the user's first two weeks. */
  readonly earlyCompleted: readonly [number, number];
  /** The planted model's probability of reliable improvement by week 8. */
  readonly probability: number;
  readonly improved: boolean;
}

/** What was planted, written beside the data so that recovery and prediction can be scored. */
export interface PopulationTruth {
  readonly seed: number;
  readonly weeks: number;
  readonly from: string;
  readonly to: string;
  readonly archetypes: Readonly<Record<Archetype, { readonly share: number; readonly plantedShare: number; readonly weeklySessions: readonly number[] }>>;
  readonly outcomeModel: typeof OUTCOME_MODEL;
  readonly startSpreadDays: number;
  /**
   * The best accuracy any predictor of the first two weeks can reach, over the users with a
   * baseline PHQ-9 (those with an outcome): the mean of max(p, 1 - p) of the planted probability.
   */
  readonly bestPossibleAccuracy: number;
  readonly users: readonly PlantedUser[];
}

export interface PlantedPopulationOptions {
  readonly seed: number;
  /** The instant the history ends. */
  readonly end: Date;
  readonly users?: number;
  readonly weeks?: number;
}

export const MAX_PLANTED_WEEKS = 52;

interface Member extends SessionUser {
  /** Stable until the outcome is drawn on the user's decision day. */
  outcome: SessionUser['outcome'];
  /** The day of the history of the user's first session: their outcome's clock starts there. */
  firstSessionDay: number | null;
  decided: boolean;
  planted: PlantedUser;
  readonly usualHourUtc: number;
  readonly driftPerDay: number;
}

const plantedUserId = (index: number) => `planted-user-${String(index).padStart(6, '0')}`;
const logistic = (logOdds: number) => 1 / (1 + exp(-logOdds));

function member(random: Random, index: number): Member {
  const archetype = weighted<Archetype>(random, ARCHETYPE_SHARES);
  const parameters = ARCHETYPES[archetype];
  const [low, high] = parameters.baseline;
  const baselineSeverity = low + random() * (high - low);
  const [locale, timezone, utcOffset] = pick(random, LOCALES);
  return {
    id: plantedUserId(index),
    outcome: 'stable',
    abandonBias: parameters.abandonBias,
    context: { platform: weighted(random, { ios: 0.45, android: 0.4, web: 0.15 }), locale, timezone, appVersion: pick(random, APP_VERSIONS) },
    nextAssessmentDay: { 'PHQ-9': 0, 'GAD-7': 0, 'WHO-5': 0 },
    goalProgress: new Map(),
    firstSessionDay: null,
    decided: false,
    planted: { userId: plantedUserId(index), archetype, startDay: floor(random() * START_SPREAD_DAYS), baselineSeverity, baselineScore: null, earlyCompleted: [0, 0], probability: 0, improved: false },
    usualHourUtc: (7 + random() * 15 - utcOffset + 24) % 24,
    driftPerDay: normal(random) * OUTCOME_MODEL.driftSd,
  };
}

/** The member's severity on `day` of their own history, before the day's noise. */
function severityOn(user: Member, day: number): number {
  const { baselineSeverity, improved } = user.planted;
  if (!improved) return clamp(baselineSeverity + user.driftPerDay * day, 0, 1);
  const progress = min(1, max(0, day - OUTCOME_MODEL.decisionDay) / OUTCOME_MODEL.improvementDays);
  return baselineSeverity * (1 - OUTCOME_MODEL.improvedDrop * progress);
}

/** Notes what the outcome model reads of a session on `day` (from the first session) of the user's first two weeks. */
function observeEarly(user: Member, events: readonly IncomingEvent[], day: number): void {
  for (const event of events) {
    if (event.type === 'session.ended' && event.attributes.completed) {
      const [first, second] = user.planted.earlyCompleted;
      user.planted = { ...user.planted, earlyCompleted: day < 7 ? [first + 1, second] : [first, second + 1] };
    }
    if (event.type === 'assessment.completed' && event.attributes.instrument === 'PHQ-9' && user.planted.baselineScore === null) user.planted = { ...user.planted, baselineScore: event.attributes.score };
  }
}

/** Draws the user's outcome from what their first two weeks showed. */
function decideOutcome(user: Member, random: Random): void {
  const { baselineScore, earlyCompleted: [firstWeek, secondWeek] } = user.planted;
  const model = OUTCOME_MODEL;
  const score = baselineScore ?? model.meanScore;
  const probability = logistic(model.intercept + model.scoreWeight * (score - model.meanScore) + model.engagementWeight * (secondWeek - model.meanCompleted) + model.dropWeight * (firstWeek - secondWeek));
  const improved = random() < probability;
  user.planted = { ...user.planted, probability, improved };
  user.outcome = improved ? 'improving' : 'stable';
  user.decided = true;
}

/**
 * Every member's history a day at a time, in time order, each from their start day; outcomes are
 * drawn as members reach their decision day. Stops after `days` days of the history.
 */
function* simulate(options: PlantedPopulationOptions, members: readonly Member[], start: number, days: number): Generator<IncomingEvent[]> {
  const random = mulberry32(options.seed ^ 0x5bd1e995);
  const outcomes = mulberry32(options.seed ^ 0x27d4eb2f);
  for (let day = 0; day < days; day += 1) {
    const dayStart = start + day * DAY_MS;
    const todays: IncomingEvent[] = [];
    for (const user of members) {
      const own = day - user.planted.startDay;
      if (own < 0) continue;
      const rate = ARCHETYPES[user.planted.archetype].sessionsPerWeek(floor(own / 7)) / 7;
      const sessions = floor(rate) + (random() < rate - floor(rate) ? 1 : 0);
      if (sessions > 0) user.firstSessionDay ??= day;
      const sinceFirst = user.firstSessionDay === null ? -1 : day - user.firstSessionDay;
      if (sinceFirst === OUTCOME_MODEL.decisionDay) decideOutcome(user, outcomes);
      for (let n = 0; n < sessions; n += 1) {
        const severity = clamp(severityOn(user, sinceFirst) + normal(random) * OUTCOME_MODEL.dailyNoiseSd, 0, 1);
        const hour = (user.usualHourUtc + normal(random) * 2 + n * 6 + 24) % 24;
        const events = session(random, user, severity, dayStart + floor(hour * HOUR_MS), own);
        if (sinceFirst < OUTCOME_MODEL.decisionDay) observeEarly(user, events, sinceFirst);
        todays.push(...events);
      }
    }
    yield todays.sort(byTime);
  }
}

/**
 * The population and what was planted: `truth` at once (from a run of every user's first two
 * weeks), `events()` the history a day at a time in time order (memory stays at one day's events).
 * A user whose decision day falls past the end keeps an outcome drawn as if the history went on
 * (one who has no session in MAX_PLANTED_WEEKS, none).
 */
export function plantedPopulation(options: PlantedPopulationOptions): { truth: PopulationTruth; events: () => Generator<IncomingEvent> } {
  const count = options.users ?? 2_000;
  const weeks = options.weeks ?? 14;
  if (!Number.isInteger(count) || count < 1 || count > 999_999) throw new RangeError(`users must be an integer 1..999999, got ${count}`);
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > MAX_PLANTED_WEEKS) throw new RangeError(`weeks must be an integer 1..${MAX_PLANTED_WEEKS}, got ${weeks}`);
  const end = options.end.getTime();
  const start = end - weeks * 7 * DAY_MS;
  const membersOf = () => {
    const random = mulberry32(options.seed);
    return Array.from({ length: count }, (_, index) => member(random, index + 1));
  };
  const decided = membersOf();
  for (const _ of simulate(options, decided, start, MAX_PLANTED_WEEKS * 7)) if (decided.every((user) => user.decided)) break;
  const planted = decided.map((user) => user.planted);
  const withOutcome = planted.filter((user) => user.baselineScore !== null);
  const archetypes = {} as Record<Archetype, PopulationTruth['archetypes'][Archetype]>;
  for (const name of ARCHETYPE_NAMES) {
    archetypes[name] = {
      share: ARCHETYPES[name].share,
      plantedShare: planted.filter((user) => user.archetype === name).length / count,
      weeklySessions: Array.from({ length: weeks }, (_, week) => ARCHETYPES[name].sessionsPerWeek(week)),
    };
  }
  const truth: PopulationTruth = {
    seed: options.seed,
    weeks,
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    archetypes,
    outcomeModel: OUTCOME_MODEL,
    startSpreadDays: START_SPREAD_DAYS,
    bestPossibleAccuracy: withOutcome.reduce((total, user) => total + max(user.probability, 1 - user.probability), 0) / withOutcome.length,
    users: planted,
  };

  function* events(): Generator<IncomingEvent> {
    // Members anew (their assessment days and goals change as sessions go), from the same seed.
    for (const todays of simulate(options, membersOf(), start, weeks * 7)) yield* todays.filter((event) => Date.parse(event.occurredAt) <= end);
  }

  return { truth, events };
}
