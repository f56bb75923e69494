import { Cron } from 'croner';
import { z } from 'zod';
import { zoneOffsetMs } from '../rollups/calendar';
import { CRON_OPTIONS, timeZoneField } from '../reports/schedule';

/**
 * Who a notification is for: a clinician (their id) or the on-call route (`ON_CALL`). Each has
 * preferences: when their digest of worklist alerts goes out, their quiet hours, and how many
 * warning pages a day they take before the rest wait for the digest. Critical pages know none
 * of these: they always go out at once.
 */

/** The on-call route as a recipient: not a valid clinician id, so it can never name one. */
export const ON_CALL = '*on-call';

const MINUTES_A_DAY = 1_440;
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (00:00 to 23:59)');

/** The body of `PUT /v1/clinicians/{clinicianId}/preferences`, and what a recipient without one gets. */
export const recipientPreferencesSchema = z.strictObject({
  timeZone: timeZoneField.default('UTC'),
  /** When the day's digest e-mail goes out, on the recipient's wall clock. */
  digestAt: clockTime.default('08:00'),
  /** Warnings due in these hours (from included, to excluded; may span midnight) wait for the digest. */
  quietHours: z
    .strictObject({ from: clockTime, to: clockTime })
    .refine((hours) => hours.from !== hours.to, { message: 'must not start and end at the same time', path: ['to'] })
    .optional(),
  /** Warning pages a recipient takes in one local day; the rest of the day's go in the digest. */
  warningPagesPerDay: z.number().int().min(0).max(1_000).default(10),
});
export type RecipientPreferences = z.infer<typeof recipientPreferencesSchema>;
export type RecipientPreferencesInput = z.input<typeof recipientPreferencesSchema>;

export const DEFAULT_PREFERENCES: RecipientPreferences = recipientPreferencesSchema.parse({});

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** The recipient's wall clock at an instant, as if it were UTC. */
const wallClock = (at: Date, timeZone: string): Date => new Date(at.getTime() + zoneOffsetMs(at.getTime(), timeZone));

/** The recipient's local date at an instant (YYYY-MM-DD): the day a warning-page cap counts in. */
export const localDay = (preferences: Pick<RecipientPreferences, 'timeZone'>, at: Date): string => wallClock(at, preferences.timeZone).toISOString().slice(0, 10);

/** Whether the instant falls in the recipient's quiet hours, on their wall clock. */
export function inQuietHours(preferences: Pick<RecipientPreferences, 'timeZone' | 'quietHours'>, at: Date): boolean {
  if (preferences.quietHours === undefined) return false;
  const wall = wallClock(at, preferences.timeZone);
  const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  const from = minutesOf(preferences.quietHours.from);
  const to = minutesOf(preferences.quietHours.to);
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/**
 * The first digest time after `after` on the recipient's wall clock. croner keeps it at that wall
 * time across daylight-saving changes; a time the clocks skip that day goes out at the first
 * instant after the gap.
 */
export function nextDigestAt(preferences: Pick<RecipientPreferences, 'timeZone' | 'digestAt'>, after: Date): Date {
  const minutes = minutesOf(preferences.digestAt);
  const cron = new Cron(`${minutes % 60} ${Math.floor(minutes / 60) % (MINUTES_A_DAY / 60)} * * *`, { ...CRON_OPTIONS, timezone: preferences.timeZone, paused: true });
  const next = cron.nextRun(after);
  if (next === null) throw new Error(`no digest time after ${after.toISOString()}`);
  return next;
}
