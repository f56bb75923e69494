import { INSTRUMENTS, type StoredEvent } from '../events/schema';

/*
 * The parts of a user's feature state that the pattern models read (archetypes and behaviour
 * sequences), kept beside features.ts's and merged as exactly: sessions per active day and the
 * user's latest behaviour steps. States stored before these fields existed read
 * as if the user had none of them.
 */

const DAY_MS = 86_400_000;
const WEEK_DAYS = 7;

/** Steps kept per user: enough to see what came before a drop-out, bounded for the row's size. */
export const KEPT_STEPS = 24;

/** A behaviour step: when (epoch ms) and what, as a token of a closed vocabulary (no ids, no free text). */
export type Step = readonly [at: number, token: string];

export interface PatternFields {
  /** Sessions started on each of `days` (the same order and length). */
  readonly daySessions?: readonly number[];
  /** The latest KEPT_STEPS steps, in (time, token) order. */
  readonly steps?: readonly Step[];
}

/** What the pattern fields are read against: the day list they run parallel to, and the span of the events. */
interface Days {
  readonly days: readonly number[];
  readonly firstAt: number;
}

const byTimeThenToken = (a: Step, b: Step) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

/** Sessions on each day, zero for days of a state stored before they were counted. */
const sessionsOf = (state: Days & PatternFields) => state.daySessions ?? state.days.map(() => 0);

/** The latest steps of both sides: a multiset union cut to the last KEPT_STEPS, so any merge order gives the same list. */
function latestSteps(a: readonly Step[], b: readonly Step[]): Step[] {
  return [...a, ...b].sort(byTimeThenToken).slice(-KEPT_STEPS);
}

/** The pattern fields of two disjoint parts' states; `days` is their merged (sorted, distinct) day list. */
export function mergePatternFields(a: Days & PatternFields, b: Days & PatternFields, days: readonly number[]): Required<PatternFields> {
  const perDay = new Map<number, number>();
  for (const side of [a, b]) {
    const sessions = sessionsOf(side);
    side.days.forEach((day, i) => perDay.set(day, (perDay.get(day) ?? 0) + (sessions[i] ?? 0)));
  }
  return {
    daySessions: days.map((day) => perDay.get(day) ?? 0),
    steps: latestSteps(a.steps ?? [], b.steps ?? []),
  };
}

/** An assessment's score as a third of its instrument's range (WHO-5 runs the other way: high is well). */
function assessmentBand(instrument: keyof typeof INSTRUMENTS, score: number): string {
  const severity = instrument === 'WHO-5' ? 1 - score / INSTRUMENTS[instrument].maxScore : score / INSTRUMENTS[instrument].maxScore;
  return severity >= 2 / 3 ? 'severe' : severity >= 1 / 3 ? 'moderate' : 'mild';
}

/** The step an event is, or null for events that say nothing about how the user is doing (choices, heartbeats). */
export function stepToken(event: StoredEvent): string | null {
  switch (event.type) {
    case 'session.ended':
      return `session.ended:${event.attributes.completed ? 'completed' : 'abandoned'}`;
    case 'mood.reported':
      return `mood.reported:${event.attributes.valence <= -0.2 ? 'negative' : event.attributes.valence >= 0.2 ? 'positive' : 'neutral'}`;
    case 'assessment.completed':
      return `assessment.completed:${assessmentBand(event.attributes.instrument, event.attributes.score)}`;
    case 'intervention.delivered':
      return `intervention.delivered:${event.attributes.completion}`;
    case 'crisis.signal':
      return 'crisis.signal';
    default:
      return null;
  }
}

/** A batch's pattern fields under construction: `days` is pushed to by features.ts in event order. */
export interface PatternDraft {
  days: number[];
  daySessions: number[];
  steps: Step[];
}

export const emptyPatternDraft = (): Pick<PatternDraft, 'daySessions' | 'steps'> => ({ daySessions: [], steps: [] });

/** Adds one event whose day is already in `draft.days`. */
export function addPatternEvent(draft: PatternDraft, event: StoredEvent, at: number, day: number): void {
  while (draft.daySessions.length < draft.days.length) draft.daySessions.push(0);
  if (event.type === 'session.started') draft.daySessions[draft.days.indexOf(day)]! += 1;
  const token = stepToken(event);
  if (token !== null) draft.steps.push([at, token]);
}

/** Puts the days in order with their sessions, and keeps the latest steps: the batch's state as merges expect it. */
export function settlePatternDraft(draft: PatternDraft): void {
  while (draft.daySessions.length < draft.days.length) draft.daySessions.push(0);
  const order = draft.days.map((_, i) => i).sort((i, j) => draft.days[i]! - draft.days[j]!);
  const [days, sessions] = [order.map((i) => draft.days[i]!), order.map((i) => draft.daySessions[i]!)];
  draft.days.splice(0, days.length, ...days);
  draft.daySessions.splice(0, sessions.length, ...sessions);
  draft.steps = latestSteps(draft.steps, []);
}

/**
 * What the archetypes are clustered on, in the features' own units, over the user's whole weeks
 * since the first event (a partial last week would read as a fall in sessions).
 */
export interface ActivityProfile {
  /** Mean sessions a week. */
  readonly sessionsPerWeek: number;
  /** Least-squares change of weekly sessions per week of tenure. */
  readonly sessionsPerWeekTrend: number;
  /** Mean absolute change of sessions from one week to the next. */
  readonly weeklyVariability: number;
  /** Share of ended sessions completed (0 when none ended). */
  readonly completionRate: number;
}

export const PROFILE_FEATURES = ['sessionsPerWeek', 'sessionsPerWeekTrend', 'weeklyVariability', 'completionRate'] as const satisfies readonly (keyof ActivityProfile)[];

/** Sessions in each whole week of tenure at `now` (week 0 starts on the day of the first event). */
export function weeklySessions(state: Days & PatternFields, now: number): number[] {
  const firstDay = Math.floor(state.firstAt / DAY_MS);
  const weeks = Math.floor((Math.floor(now / DAY_MS) - firstDay) / WEEK_DAYS);
  const counts = Array.from({ length: weeks }, () => 0);
  const sessions = sessionsOf(state);
  state.days.forEach((day, i) => {
    const week = Math.floor((day - firstDay) / WEEK_DAYS);
    if (week < weeks) counts[week]! += sessions[i] ?? 0;
  });
  return counts;
}

function slope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((sum, value) => sum + value, 0) / n;
  let numerator = 0;
  let denominator = 0;
  values.forEach((value, x) => {
    numerator += (x - meanX) * (value - meanY);
    denominator += (x - meanX) ** 2;
  });
  return numerator / denominator;
}

/** The profile of a user with at least two whole weeks, or null: too new to have a shape. */
export function activityProfile(state: Days & PatternFields & { readonly sessionsEnded: number; readonly sessionsCompleted: number }, now: number): ActivityProfile | null {
  const weeks = weeklySessions(state, now);
  if (weeks.length < 2) return null;
  const changes = weeks.slice(1).map((count, i) => Math.abs(count - weeks[i]!));
  return {
    sessionsPerWeek: weeks.reduce((sum, count) => sum + count, 0) / weeks.length,
    sessionsPerWeekTrend: slope(weeks),
    weeklyVariability: changes.reduce((sum, change) => sum + change, 0) / changes.length,
    completionRate: state.sessionsEnded > 0 ? state.sessionsCompleted / state.sessionsEnded : 0,
  };
}
