import type { IncomingEvent } from '../events/schema';
import { APP_VERSIONS, LOCALES, byTime, clamp, mulberry32, normal, pick, session, weighted, type Random, type SessionUser } from './synthetic-traffic';

/*
 * A synthetic population with ground truth, for the behaviour analysis (issue 16): weeks of
 * history in which each user follows a planted engagement archetype and reaches reliable
 * improvement or not by a planted outcome model, so the archetypes the clustering recovers and
 * the outcomes the model predicts can be scored against what was planted. Pure and deterministic:
 * the same seed, end and options give the same events and the same truth.
 */

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
  /** Log-odds of reliable improvement at the population's mean baseline (OUTCOME_MODEL). */
  readonly improvementLogOdds: number;
}

/** The planted archetypes (README "Behaviour analysis" documents them). */
export const ARCHETYPES: Readonly<Record<Archetype, ArchetypeParameters>> = {
  steady: { share: 0.3, sessionsPerWeek: () => 4, abandonBias: 0, baseline: [0.5, 0.85], improvementLogOdds: 1.2 },
  fading: { share: 0.25, sessionsPerWeek: (week) => 5 * 0.6 ** week, abandonBias: 0.15, baseline: [0.5, 0.85], improvementLogOdds: -1.4 },
  bursty: { share: 0.15, sessionsPerWeek: (week) => (week % 2 === 0 ? 7 : 0.5), abandonBias: 0.05, baseline: [0.5, 0.85], improvementLogOdds: 0 },
  late_starter: { share: 0.15, sessionsPerWeek: (week) => (week < 4 ? 1 : 7), abandonBias: 0, baseline: [0.5, 0.85], improvementLogOdds: 0.4 },
  crisis_prone: { share: 0.15, sessionsPerWeek: () => 3, abandonBias: 0.35, baseline: [0.7, 0.92], improvementLogOdds: -1 },
};

const ARCHETYPE_SHARES = Object.fromEntries(ARCHETYPE_NAMES.map((name) => [name, ARCHETYPES[name].share])) as Record<Archetype, number>;

/**
 * The planted outcome model: log-odds of reliable improvement by week 8 = the archetype's
 * log-odds + severityWeight x (baseline severity - meanSeverity). An improving user's severity
 * falls by `improvedDrop` of its baseline over the first eight weeks (a PHQ-9 drop of 50 % or
 * more: reliable improvement); the others' drifts by N(0, driftSd) a day.
 */
export const OUTCOME_MODEL = { severityWeight: -4, meanSeverity: 0.68, improvedDrop: 0.75, weeksToOutcome: 8, driftSd: 0.0008, dailyNoiseSd: 0.03 } as const;

export interface PlantedUser {
  readonly userId: string;
  readonly archetype: Archetype;
  readonly baselineSeverity: number;
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
  readonly archetypes: Readonly<Record<Archetype, { readonly share: number; readonly plantedShare: number; readonly weeklySessions: readonly number[]; readonly improvementLogOdds: number }>>;
  readonly outcomeModel: typeof OUTCOME_MODEL;
  /** The best accuracy any predictor can reach knowing each user's archetype and baseline: the mean of max(p, 1 - p). */
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
  readonly planted: PlantedUser;
  readonly usualHourUtc: number;
  readonly driftPerDay: number;
}

const plantedUserId = (index: number) => `planted-user-${String(index).padStart(6, '0')}`;
const logistic = (logOdds: number) => 1 / (1 + Math.exp(-logOdds));

function member(random: Random, index: number): Member {
  const archetype = weighted<Archetype>(random, ARCHETYPE_SHARES);
  const parameters = ARCHETYPES[archetype];
  const [low, high] = parameters.baseline;
  const baselineSeverity = low + random() * (high - low);
  const probability = logistic(parameters.improvementLogOdds + OUTCOME_MODEL.severityWeight * (baselineSeverity - OUTCOME_MODEL.meanSeverity));
  const improved = random() < probability;
  const [locale, timezone, utcOffset] = pick(random, LOCALES);
  return {
    id: plantedUserId(index),
    outcome: improved ? 'improving' : 'stable',
    abandonBias: parameters.abandonBias,
    context: { platform: weighted(random, { ios: 0.45, android: 0.4, web: 0.15 }), locale, timezone, appVersion: pick(random, APP_VERSIONS) },
    nextAssessmentDay: { 'PHQ-9': 0, 'GAD-7': 0, 'WHO-5': 0 },
    goalProgress: new Map(),
    planted: { userId: plantedUserId(index), archetype, baselineSeverity, probability, improved },
    usualHourUtc: (7 + random() * 15 - utcOffset + 24) % 24,
    driftPerDay: normal(random) * OUTCOME_MODEL.driftSd,
  };
}

/** The member's severity on `day` of the history, before the day's noise. */
function severityOn(user: Member, day: number): number {
  const { baselineSeverity, improved } = user.planted;
  if (!improved) return clamp(baselineSeverity + user.driftPerDay * day, 0, 1);
  return baselineSeverity * (1 - OUTCOME_MODEL.improvedDrop * Math.min(1, day / (OUTCOME_MODEL.weeksToOutcome * 7)));
}

/**
 * The population and what was planted: `truth` at once, `events()` the history a day at a time
 * in time order (memory stays at one day's events), every user starting on its first day.
 */
export function plantedPopulation(options: PlantedPopulationOptions): { truth: PopulationTruth; events: () => Generator<IncomingEvent> } {
  const count = options.users ?? 2_000;
  const weeks = options.weeks ?? 12;
  if (!Number.isInteger(count) || count < 1 || count > 999_999) throw new RangeError(`users must be an integer 1..999999, got ${count}`);
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > MAX_PLANTED_WEEKS) throw new RangeError(`weeks must be an integer 1..${MAX_PLANTED_WEEKS}, got ${weeks}`);
  const end = options.end.getTime();
  const start = end - weeks * 7 * DAY_MS;
  const membersOf = () => {
    const random = mulberry32(options.seed);
    return Array.from({ length: count }, (_, index) => member(random, index + 1));
  };
  const planted = membersOf().map((user) => user.planted);
  const archetypes = {} as Record<Archetype, PopulationTruth['archetypes'][Archetype]>;
  for (const name of ARCHETYPE_NAMES) {
    archetypes[name] = {
      share: ARCHETYPES[name].share,
      plantedShare: planted.filter((user) => user.archetype === name).length / count,
      weeklySessions: Array.from({ length: weeks }, (_, week) => ARCHETYPES[name].sessionsPerWeek(week)),
      improvementLogOdds: ARCHETYPES[name].improvementLogOdds,
    };
  }
  const truth: PopulationTruth = {
    seed: options.seed,
    weeks,
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    archetypes,
    outcomeModel: OUTCOME_MODEL,
    bestPossibleAccuracy: planted.reduce((total, user) => total + Math.max(user.probability, 1 - user.probability), 0) / count,
    users: planted,
  };

  function* events(): Generator<IncomingEvent> {
    // Members anew (their assessment days and goals change as sessions go), from the same seed.
    const members = membersOf();
    const random = mulberry32(options.seed ^ 0x5bd1e995);
    for (let day = 0; day < weeks * 7; day += 1) {
      const dayStart = start + day * DAY_MS;
      const todays: IncomingEvent[] = [];
      for (const user of members) {
        const rate = ARCHETYPES[user.planted.archetype].sessionsPerWeek(Math.floor(day / 7)) / 7;
        const sessions = Math.floor(rate) + (random() < rate - Math.floor(rate) ? 1 : 0);
        for (let n = 0; n < sessions; n += 1) {
          const severity = clamp(severityOn(user, day) + normal(random) * OUTCOME_MODEL.dailyNoiseSd, 0, 1);
          const hour = (user.usualHourUtc + normal(random) * 2 + n * 6 + 24) % 24;
          todays.push(...session(random, user, severity, dayStart + Math.floor(hour * HOUR_MS), day));
        }
      }
      yield* todays.filter((event) => Date.parse(event.occurredAt) <= end).sort(byTime);
    }
  }

  return { truth, events };
}
