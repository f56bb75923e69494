import { instantMs } from '../events/instant';
import { CHOICE_TYPES, INSTRUMENTS, INTERVENTION_TYPES, type Instrument, type Platform, type StoredEvent } from '../events/schema';
import { addOutcomeEvent, mergeOutcomeState, newOutcomeState, settleOutcomeState, type OutcomeState, type OutcomeStateBuilder } from './outcome-features';
import { addPatternEvent, emptyPatternDraft, mergePatternFields, settlePatternDraft, type PatternDraft, type PatternFields } from './pattern-features';

const DAY_MS = 86_400_000;
const WEEK_DAYS = 7;

/**
 * Trend lines are fitted on days counted from here, not from 1970: sums of squared day numbers
 * near 20,000 would lose the digits a slope is made of.
 */
const TREND_ORIGIN_MS = Date.UTC(2024, 0, 1);

/**
 * Sums from which a least-squares line of y over time is exact, whatever order the points come in
 * and however they are split: t in days since TREND_ORIGIN_MS.
 */
export interface LineSums {
  readonly n: number;
  readonly t: number;
  readonly tt: number;
  readonly y: number;
  readonly ty: number;
}

/** What a score was and when, for the earliest and the latest of an instrument. */
export interface ScoreAt {
  readonly at: number;
  readonly score: number;
}

/**
 * A user's behaviour so far as sums and extremes that two parts of the events merge into exactly
 * (mergeFeatureState): the aggregate keeps it current as events arrive, in any order, without
 * reading raw events again. Times are epoch ms of when events occurred.
 */
export interface FeatureState extends PatternFields {
  readonly firstAt: number;
  readonly lastAt: number;
  /** Distinct UTC days (epoch day numbers) with any event, ascending. */
  readonly days: readonly number[];
  readonly sessionsStarted: number;
  readonly sessionsEnded: number;
  readonly sessionsCompleted: number;
  readonly lastSessionAt: number | null;
  /** Session length (durationSec of session.ended) over time. */
  readonly duration: LineSums;
  readonly choices: number;
  readonly responseMsSum: number;
  /** Choices per type, in CHOICE_TYPES order. */
  readonly choiceTypes: readonly number[];
  /** Interventions delivered and completed per type, in INTERVENTION_TYPES order. */
  readonly interventions: readonly number[];
  readonly interventionsCompleted: readonly number[];
  /** Mood valence over time. */
  readonly mood: LineSums;
  readonly assessments: Readonly<Partial<Record<Instrument, { readonly baseline: ScoreAt; readonly latest: ScoreAt }>>>;
  /** Score history and first two weeks for outcome prediction; absent from states stored before it existed. */
  readonly outcome?: OutcomeState;
  /** The platform of the user's latest event that named one (cohorts select by it); absent in states stored before it was kept. */
  readonly platform?: PlatformAt | null;
}

export interface PlatformAt {
  readonly at: number;
  readonly value: Platform;
}

const NO_LINE: LineSums = { n: 0, t: 0, tt: 0, y: 0, ty: 0 };

const addLines = (a: LineSums, b: LineSums): LineSums => ({ n: a.n + b.n, t: a.t + b.t, tt: a.tt + b.tt, y: a.y + b.y, ty: a.ty + b.ty });
const addCounts = (a: readonly number[], b: readonly number[]) => a.map((count, i) => count + (b[i] ?? 0));
const laterOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
/** Whether a platform seen at `at` replaces the one held: ties go to the one held, as for scores. */
const replacesPlatform = (held: PlatformAt | null | undefined, at: number) => !held || at > held.at;
const laterPlatform = (a: PlatformAt | null | undefined, b: PlatformAt | null | undefined) => (b && replacesPlatform(a, b.at) ? b : (a ?? null));

/** Ties go to the first argument, so merging is deterministic whichever side holds which. */
const earlier = (a: ScoreAt, b: ScoreAt) => (b.at < a.at ? b : a);
const later = (a: ScoreAt, b: ScoreAt) => (b.at > a.at ? b : a);

function unionDays(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return [...a];
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** The state of two disjoint sets of a user's events, from the state of each. */
export function mergeFeatureState(a: FeatureState, b: FeatureState): FeatureState {
  const assessments: Partial<Record<Instrument, { baseline: ScoreAt; latest: ScoreAt }>> = { ...a.assessments };
  for (const instrument of Object.keys(b.assessments) as Instrument[]) {
    const [mine, theirs] = [a.assessments[instrument], b.assessments[instrument]!];
    assessments[instrument] = mine ? { baseline: earlier(mine.baseline, theirs.baseline), latest: later(mine.latest, theirs.latest) } : theirs;
  }
  const days = unionDays(a.days, b.days);
  const { daySessions, steps } = mergePatternFields(a, b, days);
  return {
    firstAt: Math.min(a.firstAt, b.firstAt),
    lastAt: Math.max(a.lastAt, b.lastAt),
    days,
    sessionsStarted: a.sessionsStarted + b.sessionsStarted,
    sessionsEnded: a.sessionsEnded + b.sessionsEnded,
    sessionsCompleted: a.sessionsCompleted + b.sessionsCompleted,
    lastSessionAt: laterOf(a.lastSessionAt, b.lastSessionAt),
    duration: addLines(a.duration, b.duration),
    choices: a.choices + b.choices,
    responseMsSum: a.responseMsSum + b.responseMsSum,
    choiceTypes: addCounts(a.choiceTypes, b.choiceTypes),
    interventions: addCounts(a.interventions, b.interventions),
    interventionsCompleted: addCounts(a.interventionsCompleted, b.interventionsCompleted),
    mood: addLines(a.mood, b.mood),
    assessments,
    platform: laterPlatform(a.platform, b.platform),
    outcome: mergeOutcomeState(a.outcome, b.outcome),
    daySessions,
    steps,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };

function addToLine(line: Mutable<LineSums>, at: number, y: number): void {
  const t = (at - TREND_ORIGIN_MS) / DAY_MS;
  line.n += 1;
  line.t += t;
  line.tt += t * t;
  line.y += y;
  line.ty += t * y;
}

type Draft = Mutable<FeatureState> & PatternDraft & { duration: Mutable<LineSums>; mood: Mutable<LineSums>; outcome: OutcomeState | undefined };

/**
 * A user's empty state as a batch builds it, written out in full: built by object spreads, it was
 * an object whose every field the per-event additions read and wrote slowly (the deltas took
 * 2.0-2.5 µs an event of the aggregate's, 0.8 since).
 */
function emptyDraft(at: number): Draft {
  const pattern = emptyPatternDraft();
  return {
    firstAt: at,
    lastAt: at,
    days: [],
    sessionsStarted: 0,
    sessionsEnded: 0,
    sessionsCompleted: 0,
    lastSessionAt: null,
    duration: { ...NO_LINE },
    choices: 0,
    responseMsSum: 0,
    choiceTypes: CHOICE_TYPES.map(() => 0),
    interventions: INTERVENTION_TYPES.map(() => 0),
    interventionsCompleted: INTERVENTION_TYPES.map(() => 0),
    mood: { ...NO_LINE },
    assessments: {},
    platform: null,
    outcome: undefined,
    daySessions: pattern.daySessions,
    steps: pattern.steps,
  };
}

/** Adds one event, which occurred at `at` (epoch ms), to its user's state in place: a batch makes one state per user, not one per event. */
function addEvent(state: Draft, event: StoredEvent, at: number): void {
  if (at < state.firstAt) state.firstAt = at;
  if (at > state.lastAt) state.lastAt = at;
  const day = Math.floor(at / DAY_MS);
  if (!state.days.includes(day)) state.days.push(day);
  const platform = event.context.platform;
  if (platform && replacesPlatform(state.platform, at)) state.platform = { at, value: platform };
  addPatternEvent(state, event, at, day);
  switch (event.type) {
    case 'session.started':
      state.sessionsStarted += 1;
      state.lastSessionAt = laterOf(state.lastSessionAt, at);
      return;
    case 'session.ended':
      state.sessionsEnded += 1;
      if (event.attributes.completed) state.sessionsCompleted += 1;
      state.lastSessionAt = laterOf(state.lastSessionAt, at);
      addToLine(state.duration, at, event.attributes.durationSec);
      return;
    case 'choice.made':
      state.choices += 1;
      state.responseMsSum += event.attributes.responseTimeMs;
      state.choiceTypes[CHOICE_TYPES.indexOf(event.attributes.choiceType)]! += 1;
      return;
    case 'intervention.delivered': {
      const type = INTERVENTION_TYPES.indexOf(event.attributes.interventionType);
      state.interventions[type]! += 1;
      if (event.attributes.completion === 'completed') state.interventionsCompleted[type]! += 1;
      return;
    }
    case 'mood.reported':
      addToLine(state.mood, at, event.attributes.valence);
      return;
    case 'assessment.completed': {
      const score = { at, score: event.attributes.score };
      const before = state.assessments[event.attributes.instrument];
      state.assessments = { ...state.assessments, [event.attributes.instrument]: before ? { baseline: earlier(before.baseline, score), latest: later(before.latest, score) } : { baseline: score, latest: score } };
      return;
    }
    default:
      return;
  }
}

/** Each user's (by pseudonym) state of a batch of events, to merge into what is stored. */
export function featureDeltas(events: readonly StoredEvent[]): Map<string, FeatureState> {
  const deltas = new Map<string, Draft>();
  const outcomes = new Map<string, OutcomeStateBuilder>();
  for (const event of events) {
    const at = instantMs(event.occurredAt);
    let state = deltas.get(event.subject);
    let outcome = outcomes.get(event.subject);
    if (!state || !outcome) {
      deltas.set(event.subject, (state = emptyDraft(at)));
      outcomes.set(event.subject, (outcome = newOutcomeState()));
    }
    addEvent(state, event, at);
    addOutcomeEvent(outcome, event, at);
  }
  for (const [subject, state] of deltas) {
    // Sorts the days with their sessions, which are kept parallel to them.
    settlePatternDraft(state);
    state.outcome = settleOutcomeState(outcomes.get(subject)!);
  }
  return deltas;
}

/** Slope of the least-squares line per day, or null under two distinct times. */
function slopePerDay(line: LineSums): number | null {
  const spread = line.n * line.tt - line.t * line.t;
  // Relative to the sums' size: rounding leaves a residue where every point is on one day.
  if (line.n < 2 || spread <= 1e-9 * line.n * line.tt) return null;
  return (line.n * line.ty - line.t * line.y) / spread;
}

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);
const shares = <T extends string>(names: readonly T[], counts: readonly number[]) => {
  const total = counts.reduce((sum, count) => sum + count, 0);
  return Object.fromEntries(names.map((name, i) => [name, ratio(counts[i] ?? 0, total)])) as Record<T, number | null>;
};

/**
 * The features the behaviour models read, in their own units, at `now`. A rate over no events is
 * null, not zero: "never chose" and "chose, never therapeutically" are different people.
 */
export interface UserFeatures {
  readonly sessionsPerWeek: number;
  readonly completionRate: number | null;
  readonly sessionDurationSec: number | null;
  /** Change of session length per week (seconds). */
  readonly sessionDurationTrend: number | null;
  readonly choiceResponseMs: number | null;
  readonly choiceTypeShare: Record<(typeof CHOICE_TYPES)[number], number | null>;
  readonly interventionShare: Record<(typeof INTERVENTION_TYPES)[number], number | null>;
  readonly interventionCompletionRate: number | null;
  readonly moodValence: number | null;
  /** Change of mood valence per week. */
  readonly moodSlope: number | null;
  readonly assessments: Readonly<Partial<Record<Instrument, { readonly baseline: number; readonly latest: number; readonly change: number }>>>;
  readonly daysActive: number;
  readonly daysSinceLastSession: number | null;
  /** Days from the first event to `now`. */
  readonly tenureDays: number;
}

export function userFeatures(state: FeatureState, now: number): UserFeatures {
  const tenureDays = Math.max(0, (now - state.firstAt) / DAY_MS);
  const durationSlope = slopePerDay(state.duration);
  const moodSlope = slopePerDay(state.mood);
  const assessments: Partial<Record<Instrument, { baseline: number; latest: number; change: number }>> = {};
  for (const instrument of Object.keys(INSTRUMENTS) as Instrument[]) {
    const scores = state.assessments[instrument];
    if (scores) assessments[instrument] = { baseline: scores.baseline.score, latest: scores.latest.score, change: scores.latest.score - scores.baseline.score };
  }
  const completed = state.interventionsCompleted.reduce((sum, count) => sum + count, 0);
  const delivered = state.interventions.reduce((sum, count) => sum + count, 0);
  return {
    // A user seen for less than a week is rated over one week, not extrapolated from a day.
    sessionsPerWeek: state.sessionsStarted / Math.max(1, tenureDays / WEEK_DAYS),
    completionRate: ratio(state.sessionsCompleted, state.sessionsEnded),
    sessionDurationSec: ratio(state.duration.y, state.duration.n),
    sessionDurationTrend: durationSlope === null ? null : durationSlope * WEEK_DAYS,
    choiceResponseMs: ratio(state.responseMsSum, state.choices),
    choiceTypeShare: shares(CHOICE_TYPES, state.choiceTypes),
    interventionShare: shares(INTERVENTION_TYPES, state.interventions),
    interventionCompletionRate: ratio(completed, delivered),
    moodValence: ratio(state.mood.y, state.mood.n),
    moodSlope: moodSlope === null ? null : moodSlope * WEEK_DAYS,
    assessments,
    daysActive: state.days.length,
    daysSinceLastSession: state.lastSessionAt === null ? null : Math.max(0, (now - state.lastSessionAt) / DAY_MS),
    tenureDays,
  };
}
