import { Cron, type CronOptions } from 'croner';
import { z } from 'zod';
import { slug } from '../api/input-bounds';
import { calendarBounds, isoInstantInZone, resolveTimeZone, type CalendarUnit } from '../rollups/calendar';
import { awsCronProblem } from './aws-cron';
import { REPORT_FORMATS } from './document';

/**
 * Report schedules (`PUT /v1/report-schedules`): when a report runs, in whose time zone, and
 * which local calendar period it covers. Cron times are the reader's wall clock: "0 8 * * MON"
 * in America/New_York is 08:00 on Monday in New York in winter and in summer.
 *
 * Daylight saving, as croner 11 schedules it (Vixie cron's rules) with the options below:
 * - a time the clocks skip (02:30 in New York on 14 March 2027) runs at the first instant after
 *   the gap (03:00 EDT), on the same day: a report is never silently dropped;
 * - a time the clocks pass twice (01:30 in New York on 7 November 2027) runs once, at the first
 *   pass (01:30 EDT), when the minute and the hour are single values or lists ("no-wildcard":
 *   by croner's default a list such as "30 1,13" would run twice, and skip the gap);
 * - a schedule with a wildcard or step in the hour ("0 * * * *") runs each real hour, so twice
 *   in the repeated one: those are two different hours. Its runs in that hour cover the same
 *   period, and the second makes a new version of the report.
 * The period a run covers is taken from the local date it fires on (periodOf), so a run moved
 * by a gap still covers the period it was meant for.
 */

/**
 * The complete local periods a scheduled report can cover: the day, ISO week (Monday to Sunday)
 * or month before the run, and the month so far up to the end of the day before the run (a
 * month_to_date run on the 1st covers the whole month just ended: there is no day of the new
 * month to report yet). The partial day of the run itself is never covered: its data are late.
 */
export const REPORT_PERIODS = ['previous_day', 'previous_week', 'previous_month', 'month_to_date'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/**
 * The kinds a schedule may run. Not research: each research report spends the privacy budget, so
 * each is asked for on its own (POST /v1/reports), never repeated by a timer until the budget is gone.
 */
export const SCHEDULED_REPORT_KINDS = ['outcomes', 'operations'] as const;

/** Recipients a schedule mails; more is a distribution list's job. */
export const MAX_RECIPIENTS = 50;

export const CRON_OPTIONS = { mode: '5-part', fixedTimeRule: 'no-wildcard' } as const satisfies CronOptions;
// Any pattern that can fire does so within 8 years of this (a 29 February the longest wait).
const CRON_PROBE_FROM = new Date('2000-01-01T00:00:00Z');

/**
 * What is wrong with a report cron, or undefined. Five fields, as the DESIGN's "0 8 * * MON" and
 * EventBridge Scheduler's minute-level crons (no seconds, no @nicknames). The minute must be one
 * value: a report runs at most hourly, where a minute step or list would render and mail one every
 * few minutes.
 */
function cronProblem(pattern: string): string | undefined {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5) return 'must have five fields: minute hour day-of-month month day-of-week, like "0 8 * * MON"';
  if (!/^\d{1,2}$/.test(fields[0]!)) return 'must name one minute (like "0 8 * * MON"): a report runs at most once an hour';
  let cron: Cron;
  try {
    cron = new Cron(pattern, { ...CRON_OPTIONS, paused: true });
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
  if (cron.nextRun(CRON_PROBE_FROM) === null) return 'never fires: no date matches it';
  // In AWS each schedule is an EventBridge Scheduler cron: one it cannot express is refused here, not at sync.
  return awsCronProblem(pattern);
}

const cronField = z.string().superRefine((pattern, ctx) => {
  const problem = cronProblem(pattern);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

// Corrected to the zone's spelling (europe/london -> Europe/London): croner and Intl need it so.
export const timeZoneField = z.string().transform((name, ctx) => {
  const zone = resolveTimeZone(name);
  if (zone === undefined) {
    ctx.addIssue({ code: 'custom', message: `must be an IANA time zone like Europe/London (${JSON.stringify(name.slice(0, 64))} is none)` });
    return z.NEVER;
  }
  return zone;
});

const noRepeats = (values: readonly string[]) => new Set(values.map((value) => value.toLowerCase())).size === values.length;

/** A report schedule as PUT takes it; bad input fails naming its field (`cron`, `recipients.1`). */
export const reportScheduleSchema = z.strictObject({
  id: slug,
  kind: z.enum(SCHEDULED_REPORT_KINDS, { error: `must be one of ${SCHEDULED_REPORT_KINDS.join(', ')}: research reports spend the privacy budget and are asked for one by one` }),
  cron: cronField,
  timeZone: timeZoneField,
  period: z.enum(REPORT_PERIODS),
  formats: z.array(z.enum(REPORT_FORMATS)).min(1, 'must name at least one format').refine(noRepeats, 'must not repeat a format'),
  // None is allowed: the report is then kept for download (GET /v1/reports) and mailed to no one.
  recipients: z
    .array(z.email('must be an e-mail address'))
    .max(MAX_RECIPIENTS, `must list at most ${MAX_RECIPIENTS} recipients`)
    .refine(noRepeats, 'must not repeat a recipient'),
  enabled: z.boolean(),
});

export type ReportSchedule = z.infer<typeof reportScheduleSchema>;

/**
 * The schedule's next runs after `after`, as instants in its zone's offset then
 * (2027-03-29T08:00:00+01:00), for the schedules page and the API's `next`. A disabled
 * schedule runs never: none.
 */
export function nextRuns(schedule: Pick<ReportSchedule, 'cron' | 'timeZone' | 'enabled'>, after: Date, count = 3): string[] {
  if (!schedule.enabled) return [];
  const cron = new Cron(schedule.cron, { ...CRON_OPTIONS, timezone: schedule.timeZone, paused: true });
  return cron.nextRuns(count, after).map((run) => isoInstantInZone(run.getTime(), schedule.timeZone));
}

export interface ReportPeriodBounds {
  /** The first instant of the period, in the zone's offset then. */
  readonly from: string;
  /** The first instant after it. */
  readonly to: string;
  readonly timeZone: string;
  /**
   * Names the period in storage keys (reports/{kind}/{label}/v{n}.{format}): 2027-03-28,
   * 2027-W12 (ISO week-year and week), 2027-03, or 2027-03-01--2027-03-14 for a month to date
   * (ISO 8601's interval with the double hyphen it allows where "/" cannot go, both days included).
   */
  readonly label: string;
}

/** [start, end) of the local day, ISO week or month holding the instant. */
function periodHolding(epochMs: number, unit: CalendarUnit, timeZone: string): [number, number] {
  const [start, end] = calendarBounds(epochMs, epochMs + 1, unit, timeZone);
  return [start!, end!];
}

export const localDate = (epochMs: number, timeZone: string) => isoInstantInZone(epochMs, timeZone).slice(0, 10);

/** ISO 8601 week of a Monday (YYYY-MM-DD): its Thursday's year, and which week of that year. */
function isoWeekLabel(monday: string): string {
  const thursday = new Date(Date.parse(`${monday}T00:00:00Z`) + 3 * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * The local calendar period a run fired at `firedAt` covers, as instants: the reader's days,
 * weeks and months, so a previous_week run on Monday 08:00 in New York covers Monday 00:00 to
 * Monday 00:00 local, 167 or 169 hours when the clocks change in it. For the report's query
 * bounds, its `period` and its storage key.
 */
export function periodOf(period: ReportPeriod, firedAt: Date, timeZone: string): ReportPeriodBounds {
  const [today] = periodHolding(firedAt.getTime(), 'day', timeZone);
  let from: number;
  let to = today;
  let label: string;
  switch (period) {
    case 'previous_day':
      [from] = periodHolding(today - 1, 'day', timeZone);
      label = localDate(from, timeZone);
      break;
    case 'previous_week':
      [from, to] = periodHolding(periodHolding(today, 'week', timeZone)[0] - 1, 'week', timeZone);
      label = isoWeekLabel(localDate(from, timeZone));
      break;
    case 'previous_month':
      [from, to] = periodHolding(periodHolding(today, 'month', timeZone)[0] - 1, 'month', timeZone);
      label = localDate(from, timeZone).slice(0, 7);
      break;
    case 'month_to_date':
      [from] = periodHolding(today - 1, 'month', timeZone);
      label = `${localDate(from, timeZone)}--${localDate(today - 1, timeZone)}`;
      break;
  }
  return { from: isoInstantInZone(from, timeZone), to: isoInstantInZone(to, timeZone), timeZone, label };
}
