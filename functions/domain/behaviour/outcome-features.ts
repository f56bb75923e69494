import type { Instrument, StoredEvent } from '../events/schema';
import type { ScoreAt } from './features';

const DAY_MS = 86_400_000;

/** The first two weeks: the features an outcome is predicted from are those of the user's first 14 UTC days. */
export const FIRST_WEEKS_DAYS = 14;

/** An outcome is read at eight weeks after the baseline: scores after that are never needed. */
export const OUTCOME_DAYS = 56;

/** What a user did on one UTC day (an epoch day number) of their first two weeks. */
export interface DayActivity {
  readonly day: number;
  readonly sessionsStarted: number;
  readonly sessionsEnded: number;
  readonly sessionsCompleted: number;
  readonly durationSec: number;
  readonly moods: number;
  readonly moodSum: number;
  readonly choices: number;
  readonly responseMsSum: number;
  readonly interventions: number;
  readonly interventionsCompleted: number;
  readonly crisisSignals: number;
}

/**
 * What outcome prediction needs of a user, kept beside the other features (FeatureState.outcome)
 * and, like them, merged exactly in any order and split:
 * - `scores`: each instrument's scores from its first to OUTCOME_DAYS after it, in time order (the
 *   label is read from them). A score that arrives from before the first moves the window back and
 *   drops those past its end; those past the end of a window never come back into it.
 * - `firstDays`: per-day activity of the days from the user's first day to FIRST_WEEKS_DAYS after
 *   it, ascending. An earlier event arriving later moves the first day back and drops the buckets
 *   now past the window.
 */
export interface OutcomeState {
  readonly scores: Readonly<Partial<Record<Instrument, readonly ScoreAt[]>>>;
  readonly firstDays: readonly DayActivity[];
}

export const EMPTY_OUTCOME_STATE: OutcomeState = { scores: {}, firstDays: [] };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type OutcomeStateBuilder = { scores: Partial<Record<Instrument, ScoreAt[]>>; firstDays: Mutable<DayActivity>[] };

export const newOutcomeState = (): OutcomeStateBuilder => ({ scores: {}, firstDays: [] });

const emptyDay = (day: number): Mutable<DayActivity> => ({
  day,
  sessionsStarted: 0,
  sessionsEnded: 0,
  sessionsCompleted: 0,
  durationSec: 0,
  moods: 0,
  moodSum: 0,
  choices: 0,
  responseMsSum: 0,
  interventions: 0,
  interventionsCompleted: 0,
  crisisSignals: 0,
});

function dayOf(state: OutcomeStateBuilder, day: number): Mutable<DayActivity> {
  for (const bucket of state.firstDays) if (bucket.day === day) return bucket;
  const bucket = emptyDay(day);
  state.firstDays.push(bucket);
  return bucket;
}

/** Adds one event, which occurred at `at` (epoch ms), in place; `settleOutcomeState` trims the windows once the batch is in. */
export function addOutcomeEvent(state: OutcomeStateBuilder, event: StoredEvent, at: number): void {
  const day = dayOf(state, Math.floor(at / DAY_MS));
  switch (event.type) {
    case 'session.started':
      day.sessionsStarted += 1;
      return;
    case 'session.ended':
      day.sessionsEnded += 1;
      if (event.attributes.completed) day.sessionsCompleted += 1;
      day.durationSec += event.attributes.durationSec;
      return;
    case 'choice.made':
      day.choices += 1;
      day.responseMsSum += event.attributes.responseTimeMs;
      return;
    case 'intervention.delivered':
      day.interventions += 1;
      if (event.attributes.completion === 'completed') day.interventionsCompleted += 1;
      return;
    case 'mood.reported':
      day.moods += 1;
      day.moodSum += event.attributes.valence;
      return;
    case 'crisis.signal':
      day.crisisSignals += 1;
      return;
    case 'assessment.completed':
      (state.scores[event.attributes.instrument] ??= []).push({ at, score: event.attributes.score });
      return;
    default:
      return;
  }
}

/** Ties in time are put in score order, so the state is the same whichever part held which. */
const byTimeThenScore = (a: ScoreAt, b: ScoreAt) => a.at - b.at || a.score - b.score;

const sumDays = (a: DayActivity, b: DayActivity): DayActivity => {
  const sum = { ...a };
  for (const key of Object.keys(b) as (keyof DayActivity)[]) if (key !== 'day') sum[key] = a[key] + b[key];
  return sum;
};

/** Both windows sorted and cut to their lengths from their (now known) starts. */
function settled(scores: Partial<Record<Instrument, ScoreAt[]>>, days: DayActivity[]): OutcomeState {
  const kept: Partial<Record<Instrument, readonly ScoreAt[]>> = {};
  for (const [instrument, list] of Object.entries(scores) as [Instrument, ScoreAt[]][]) {
    list.sort(byTimeThenScore);
    const end = list[0]!.at + OUTCOME_DAYS * DAY_MS;
    kept[instrument] = list.filter((score) => score.at <= end);
  }
  days.sort((a, b) => a.day - b.day);
  const firstDay = days[0]?.day ?? 0;
  return { scores: kept, firstDays: days.filter((bucket) => bucket.day < firstDay + FIRST_WEEKS_DAYS) };
}

export const settleOutcomeState = (state: OutcomeStateBuilder): OutcomeState => settled(state.scores, state.firstDays);

/** The state of two disjoint sets of a user's events; a state stored before these fields existed counts as empty. */
export function mergeOutcomeState(a: OutcomeState | undefined, b: OutcomeState | undefined): OutcomeState {
  const [left, right] = [a ?? EMPTY_OUTCOME_STATE, b ?? EMPTY_OUTCOME_STATE];
  const scores: Partial<Record<Instrument, ScoreAt[]>> = {};
  for (const side of [left, right]) {
    for (const [instrument, list] of Object.entries(side.scores) as [Instrument, readonly ScoreAt[]][]) scores[instrument] = [...(scores[instrument] ?? []), ...list];
  }
  const days = new Map<number, DayActivity>();
  for (const bucket of [...left.firstDays, ...right.firstDays]) {
    const before = days.get(bucket.day);
    days.set(bucket.day, before ? sumDays(before, bucket) : bucket);
  }
  return settled(scores, [...days.values()]);
}

/** The first two weeks in the features' own units; a rate over nothing is null. */
export interface FirstWeeksFeatures {
  readonly sessions: number;
  readonly completedSessions: number;
  /** Sessions started and completed in days 7-13: early drop-off shows as fewer than in days 0-6. */
  readonly secondWeekSessions: number;
  readonly secondWeekCompleted: number;
  readonly activeDays: number;
  readonly completionRate: number | null;
  readonly sessionDurationSec: number | null;
  readonly moodValence: number | null;
  readonly choiceResponseMs: number | null;
  readonly interventionCompletionRate: number | null;
  readonly crisisSignals: number;
  /** Each instrument's first score, when it was taken within the first two weeks. */
  readonly baseline: Readonly<Partial<Record<Instrument, ScoreAt>>>;
}

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export function firstWeeksFeatures(state: OutcomeState | undefined): FirstWeeksFeatures {
  const { scores, firstDays } = state ?? EMPTY_OUTCOME_STATE;
  const total = firstDays.reduce(sumDays, emptyDay(0));
  const firstDay = firstDays[0]?.day ?? 0;
  const secondWeek = firstDays.filter((bucket) => bucket.day >= firstDay + 7).reduce(sumDays, emptyDay(0));
  const windowEnd = (firstDay + FIRST_WEEKS_DAYS) * DAY_MS;
  const baseline: Partial<Record<Instrument, ScoreAt>> = {};
  for (const [instrument, list] of Object.entries(scores) as [Instrument, readonly ScoreAt[]][]) {
    if (list[0] && list[0].at < windowEnd) baseline[instrument] = list[0];
  }
  return {
    sessions: total.sessionsStarted,
    completedSessions: total.sessionsCompleted,
    secondWeekSessions: secondWeek.sessionsStarted,
    secondWeekCompleted: secondWeek.sessionsCompleted,
    activeDays: firstDays.length,
    completionRate: ratio(total.sessionsCompleted, total.sessionsEnded),
    sessionDurationSec: ratio(total.durationSec, total.sessionsEnded),
    moodValence: ratio(total.moodSum, total.moods),
    choiceResponseMs: ratio(total.responseMsSum, total.choices),
    interventionCompletionRate: ratio(total.interventionsCompleted, total.interventions),
    crisisSignals: total.crisisSignals,
    baseline,
  };
}
