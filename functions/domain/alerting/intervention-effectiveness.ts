import { z } from 'zod';
import { boundedInstant } from '../api/input-bounds';
import type { StoredEvent } from '../events/schema';
import { releaseGate } from '../privacy/release-gate';
import { calendarBounds } from '../rollups/calendar';
import { subjectKey } from './model';

/**
 * Whether the interventions detect recommends help: of the recommendations the app received, the
 * share it followed with the intervention completed (`intervention.delivered` of the same type,
 * completion `completed`, within `FOLLOW_WINDOW_MS`; for a check-in, a mood check-in), and the
 * change of the person's mood from their last mood report before the recommendation to their
 * first after the intervention (each within `MOOD_WINDOW_MS`).
 *
 * Released per UTC week and intervention type, each a fixed bucket whatever range is asked: a
 * bucket of fewer than k distinct users is suppressed, and so is a mood change measured on fewer
 * than k. No total across types or weeks is released, so two answers (any ranges) differ only by
 * whole released buckets, and nothing of a suppressed one can be recovered by differencing.
 */
export const FOLLOW_WINDOW_MS = 24 * 3_600_000;
export const MOOD_WINDOW_MS = 7 * 24 * 3_600_000;
const WEEK_MS = 7 * 24 * 3_600_000;
const MAX_WEEKS = 106;
const DEFAULT_WEEKS = 4;

/**
 * What detect saw of a watched user that may close a recommendation's loop: an intervention the
 * app delivered and the person completed, or a mood report (which also answers a check-in).
 * Keyed `user:<pseudonym>`, as recommendations are.
 */
export type FollowUp =
  | { readonly kind: 'completed'; readonly subject: string; readonly interventionType: string; readonly at: Date }
  | { readonly kind: 'mood'; readonly subject: string; readonly valence: number; readonly at: Date };

/** The follow-ups of a batch of events, in event order. */
export function followUpsOf(events: readonly StoredEvent[]): FollowUp[] {
  return events.flatMap((event): FollowUp[] => {
    const subject = subjectKey({ kind: 'user', id: event.subject });
    if (event.type === 'intervention.delivered' && event.attributes.completion === 'completed') {
      return [{ kind: 'completed', subject, interventionType: event.attributes.interventionType, at: new Date(event.occurredAt) }];
    }
    if (event.type === 'mood.reported') return [{ kind: 'mood', subject, valence: event.attributes.valence, at: new Date(event.occurredAt) }];
    return [];
  });
}

/** One week's figures of one intervention type, as the store counts them. */
export interface EffectivenessCounts {
  readonly week: Date;
  readonly interventionType: string;
  /** Distinct users recommended this type this week: the gate's count. */
  readonly users: number;
  readonly recommended: number;
  /** Of those, the ones the app received. */
  readonly sent: number;
  readonly followed: number;
  /** Distinct users with a mood before and after a followed recommendation, and the mean change. */
  readonly moodUsers: number;
  readonly moodChangeMean: number | null;
}

export type MoodChange = { readonly users: number; readonly mean: number } | { readonly suppressed: true };

export type EffectivenessRow =
  | { readonly interventionType: string; readonly suppressed: true }
  | {
      readonly interventionType: string;
      readonly users: number;
      readonly recommended: number;
      readonly sent: number;
      readonly followed: number;
      /** followed / sent; null when none was sent. */
      readonly followedShare: number | null;
      /** Change of mood valence (-1 to 1), after minus before. */
      readonly moodChange: MoodChange;
    };

export interface EffectivenessAnswer {
  readonly from: string;
  readonly to: string;
  readonly interval: 'week';
  readonly k: number;
  readonly weeks: readonly { readonly start: string; readonly types: readonly EffectivenessRow[] }[];
}

export const effectivenessQuerySchema = z.strictObject({
  from: boundedInstant.optional(),
  to: boundedInstant.optional(),
});

/**
 * The asked range widened to whole weeks, Monday to Monday in UTC as the metric answers' weeks
 * (by default the four weeks up to the end of this one, or before `to`); an error message, when
 * it is no range.
 */
export function effectivenessWeeks(query: z.infer<typeof effectivenessQuerySchema>, now: Date): { from: number; to: number } | { error: string; parameter: 'from' | 'to' } {
  const toMs = query.to === undefined ? calendarBounds(now.getTime(), now.getTime() + 1, 'week', 'UTC')[1]! : Date.parse(query.to);
  const bounds = calendarBounds(query.from === undefined ? toMs - DEFAULT_WEEKS * WEEK_MS : Date.parse(query.from), toMs, 'week', 'UTC');
  const [from, to] = [bounds[0]!, bounds.at(-1)!];
  if (bounds.length < 2) return { error: 'must be before to', parameter: 'from' };
  if ((to - from) / WEEK_MS > MAX_WEEKS) return { error: `must be at most ${MAX_WEEKS} weeks before to`, parameter: 'from' };
  return { from, to };
}

/** The release: each week and type as a bucket of its own, withheld under k distinct users. */
export function releaseEffectiveness(counts: readonly EffectivenessCounts[], range: { from: number; to: number }, k: number): EffectivenessAnswer {
  const gate = releaseGate(k);
  const byWeek = new Map<number, EffectivenessRow[]>();
  for (let week = range.from; week < range.to; week += WEEK_MS) byWeek.set(week, []);
  for (const row of counts) {
    const types = byWeek.get(row.week.getTime());
    if (types === undefined) continue;
    if (!gate.settles(row.users)) {
      types.push({ interventionType: row.interventionType, suppressed: true });
      continue;
    }
    const moodChange: MoodChange = gate.settles(row.moodUsers) && row.moodChangeMean !== null ? { users: row.moodUsers, mean: row.moodChangeMean } : { suppressed: true };
    types.push({
      interventionType: row.interventionType,
      users: row.users,
      recommended: row.recommended,
      sent: row.sent,
      followed: row.followed,
      followedShare: row.sent === 0 ? null : row.followed / row.sent,
      moodChange,
    });
  }
  return {
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    interval: 'week',
    k,
    weeks: [...byWeek].map(([week, types]) => ({ start: new Date(week).toISOString(), types: types.sort((a, b) => a.interventionType.localeCompare(b.interventionType)) })),
  };
}
