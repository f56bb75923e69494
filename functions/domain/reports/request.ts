import { z } from 'zod';
import { boundedInstant } from '../api/input-bounds';
import { releaseParameters, withReleaseRules } from '../privacy/research-release';
import { calendarBounds } from '../rollups/calendar';
import { REPORT_FORMATS } from './document';
import { localDate, reportScheduleSchema, timeZoneField, type ReportPeriodBounds } from './schedule';

/*
 * The body of POST /v1/reports (DESIGN.md "Reports"): a kind, a period [from, to) shown in the
 * reader's time zone, and a format. A research report also carries its release's parameters:
 * its ε is spent when it is asked for, so a refused budget is the request's answer (403).
 */

const MAX_REPORT_DAYS = 400;

const reportRange = <Schema extends z.ZodType<{ from: string; to: string }>>(schema: Schema): Schema =>
  schema
    .refine((body) => Date.parse(body.to) > Date.parse(body.from), { message: 'must be after from', path: ['to'] })
    .refine((body) => Date.parse(body.to) - Date.parse(body.from) <= MAX_REPORT_DAYS * 86_400_000, { message: `the range may be at most ${MAX_REPORT_DAYS} days`, path: ['to'] });

const readerFields = {
  timeZone: timeZoneField.default('UTC'),
};

/**
 * The parameters an outcome or operational run carries beside its period: the period its figures
 * are benchmarked against, besides the period before.
 */
export const figuresParametersSchema = z.object({
  baseline: reportRange(z.strictObject({ from: boundedInstant, to: boundedInstant })).optional(),
});

const figuresReportSchema = reportRange(
  z.strictObject({
    kind: z.enum(['outcomes', 'operations']),
    from: boundedInstant,
    to: boundedInstant,
    ...readerFields,
    format: z.enum(REPORT_FORMATS).default('pdf'),
    ...figuresParametersSchema.shape,
  }),
);

const researchReportRequestSchema = withReleaseRules(
  z.strictObject({
    kind: z.literal('research'),
    ...releaseParameters,
    ...readerFields,
    // CSV by default: the layout research scripts read, a line per metric.
    format: z.enum(REPORT_FORMATS).default('csv'),
  }),
);

export const reportRequestSchema = z.discriminatedUnion('kind', [figuresReportSchema, researchReportRequestSchema]);
export type ReportRequest = z.infer<typeof reportRequestSchema>;
export type ResearchReportRequest = Extract<ReportRequest, { kind: 'research' }>;

/** The body of PUT /v1/report-schedules: the whole set, ids unique. */
export const reportSchedulesSchema = z.strictObject({
  schedules: z
    .array(reportScheduleSchema)
    .max(100, 'must list at most 100 schedules')
    .superRefine((schedules, ctx) => {
      const seen = new Set<string>();
      for (const [position, schedule] of schedules.entries()) {
        if (seen.has(schedule.id)) ctx.addIssue({ code: 'custom', message: `repeats the id ${schedule.id}`, path: [position, 'id'] });
        seen.add(schedule.id);
      }
    }),
});

const compactInstant = (epochMs: number) => new Date(epochMs).toISOString().replace(/[-:]|\.\d+/g, '');

/**
 * The period of a report asked for through the API, named for its storage key: whole local days
 * are named by their first and last day (2027-03-01--2027-03-31), anything else by its UTC
 * instants (20270301T093000Z--20270302T093000Z).
 */
export function requestedPeriod(request: Pick<ReportRequest, 'from' | 'to' | 'timeZone'>): ReportPeriodBounds {
  const from = Date.parse(request.from);
  const to = Date.parse(request.to);
  const days = calendarBounds(from, to, 'day', request.timeZone);
  const wholeDays = days[0] === from && days.at(-1) === to;
  const label = wholeDays ? `${localDate(from, request.timeZone)}--${localDate(to - 1, request.timeZone)}` : `${compactInstant(from)}--${compactInstant(to)}`;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), timeZone: request.timeZone, label };
}

export const REPORT_LIST_LIMIT = { default: 20, max: 100 } as const;
