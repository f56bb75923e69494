import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { REPORT_FORMATS, REPORT_KINDS } from '../reports/document';
import { REPORT_LIST_LIMIT, reportRequestSchema, reportSchedulesSchema } from '../reports/request';
import { REPORT_PERIODS, SCHEDULED_REPORT_KINDS } from '../reports/schedule';
import { BODY_ERRORS, NO_STORE, json, registerRoute, type RouteTable } from './openapi-route';

/*
 * Reports (DESIGN.md "Reports"): asked for, queued, made by the report function, read through
 * links that expire; and the schedules that ask for them. The answers' shapes are the use case's
 * (use-cases/reports.ts reportView); the examples are real answers' shapes.
 */

const tags = ['Reports'];
const REPORT_ID = '4c099497-681f-4332-ad50-be7f6dfc5f8f';

const period = z
  .object({ from: z.string(), to: z.string(), timeZone: z.string(), label: z.string().meta({ description: 'Names the period in the storage key: reports/{kind}/{label}/v{version}.{format}.' }) })
  .meta({ id: 'ReportPeriod' });

const reportFile = z.object({
  format: z.enum(REPORT_FORMATS),
  bytes: z.number().int(),
  contentType: z.string(),
  url: z.url().optional().meta({ description: 'A presigned link (S3 in AWS, a signed link of the local runtime) that reads the file without a token until `expiresAt`; on GET /v1/reports/{id} only.' }),
  expiresAt: z.iso.datetime().optional(),
});

const delivery = z.object({
  kind: z.enum(['link', 'notice', 'test']).meta({ description: 'link: the report mailed as a link; notice: the short note that it could not be made; test: a schedule test send.' }),
  status: z.enum(['sent', 'failed', 'skipped']).meta({ description: 'skipped: the (schedule, period) was mailed already; it is mailed once whatever the retries.' }),
  recipients: z.number().int().meta({ description: 'How many were mailed; who is in the schedule only.' }),
  attempts: z.number().int(),
  at: z.iso.datetime(),
  reason: z.string().optional(),
});

const report = z
  .object({
    id: z.uuid(),
    kind: z.enum(REPORT_KINDS),
    status: z.enum(['queued', 'running', 'done', 'failed']),
    period,
    formats: z.array(z.enum(REPORT_FORMATS)),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
    scheduleId: z.string().nullable(),
    test: z.boolean(),
    parameters: z.record(z.string(), z.unknown()),
    summary: z.record(z.string(), z.unknown()),
    version: z.number().int().nullable().meta({ description: 'The nth run of this kind and period: a re-run makes a new version, never an overwrite.' }),
    dataThrough: z.iso.datetime().nullable().meta({ description: 'The newest data the report covers.' }),
    progress: z.object({ stage: z.string(), done: z.number().int(), total: z.number().int() }).nullable(),
    files: z.array(reportFile),
    deliveries: z.array(delivery),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'Report' });

const queued = z.object({ id: z.uuid(), status: z.literal('queued'), kind: z.enum(REPORT_KINDS), period }).meta({ id: 'ReportQueued' });

const schedule = z
  .object({
    id: z.string(),
    kind: z.enum(SCHEDULED_REPORT_KINDS),
    cron: z.string().meta({ description: 'Five fields, minute hour day-of-month month day-of-week, on the wall clock of timeZone.' }),
    timeZone: z.string(),
    period: z.enum(REPORT_PERIODS),
    formats: z.array(z.enum(REPORT_FORMATS)),
    recipients: z.array(z.email()),
    enabled: z.boolean(),
    next: z.array(z.string()).meta({ description: 'The next three runs, as instants with the zone offset then.' }),
  })
  .meta({ id: 'ReportSchedule' });

const schedules = z.object({ schedules: z.array(schedule) }).meta({ id: 'ReportSchedules' });

const periodExample = { from: '2027-03-01T00:00:00.000Z', to: '2027-04-01T00:00:00.000Z', timeZone: 'Europe/London', label: '2027-03-01--2027-03-31' };

const reportExample = {
  id: REPORT_ID,
  kind: 'outcomes',
  status: 'done',
  period: periodExample,
  formats: ['pdf'],
  createdAt: '2027-04-01T07:00:00.000Z',
  createdBy: 'dev',
  scheduleId: null,
  test: false,
  parameters: {},
  summary: { sections: ['summary', 'assessments', 'engagement'] },
  version: 1,
  dataThrough: '2027-04-01T06:58:00.000Z',
  progress: null,
  files: [{ format: 'pdf', bytes: 48_213, contentType: 'application/pdf', url: `https://reports.example.s3.eu-west-2.amazonaws.com/reports/outcomes/2027-03-01--2027-03-31/v1.pdf?X-Amz-Expires=3600`, expiresAt: '2027-04-01T08:00:00.000Z' }],
  deliveries: [],
} satisfies z.infer<typeof report>;

const scheduleExample = {
  id: 'weekly-outcomes',
  kind: 'outcomes',
  cron: '0 8 * * MON',
  timeZone: 'America/New_York',
  period: 'previous_week',
  formats: ['pdf', 'xlsx'],
  recipients: ['programme.lead@clinic.example'],
  enabled: true,
  next: ['2027-03-08T08:00:00-05:00', '2027-03-15T08:00:00-04:00', '2027-03-22T08:00:00-04:00'],
} satisfies z.infer<typeof schedule>;

/** POST and GET /v1/reports, GET /v1/reports/{id}, GET and PUT /v1/report-schedules and POST /v1/report-schedules/{id}/test. */
export function registerReports(registry: OpenAPIRegistry, routes: RouteTable, security: RouteConfig['security']): void {
  registerRoute(
    registry,
    routes,
    'POST /v1/reports',
    {
      operationId: 'createReport',
      summary: 'Asks for a report (outcomes, operations or research) over a period, in a format; the report function makes it',
      description:
        'Answers at once with the queued report; GET /v1/reports/{id} shows when it is done. A research report draws its differentially private release now and spends its epsilon now, so a budget too small is this request\'s 403; rendering it spends nothing more.',
      tags,
      request: { body: { required: true, content: json(reportRequestSchema, { kind: 'outcomes', from: '2027-03-01T00:00:00Z', to: '2027-04-01T00:00:00Z', timeZone: 'Europe/London', format: 'pdf' }) } },
      responses: { 202: { description: 'Queued; `Location` names its page.', headers: { Location: { schema: { type: 'string' }, description: '/v1/reports/{id}' } }, content: json(queued, { id: REPORT_ID, status: 'queued', kind: 'outcomes', period: periodExample }) } },
      errors: [...BODY_ERRORS, 'privacy_budget_exhausted'],
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'GET /v1/reports',
    {
      operationId: 'listReports',
      summary: 'Reports, newest first, a page at a time',
      tags,
      request: {
        query: z.object({
          kind: z.enum(REPORT_KINDS).optional(),
          limit: z.number().int().min(1).max(REPORT_LIST_LIMIT.max).optional().meta({ param: { description: `Reports per page (default ${REPORT_LIST_LIMIT.default}).` } }),
          cursor: z.string().optional().meta({ param: { description: 'The `cursor` of the previous page.' } }),
        }),
      },
      responses: { 200: { description: 'A page of reports, without links (GET one for its links); `cursor` is null on the last page.', headers: NO_STORE, content: json(z.object({ reports: z.array(report), cursor: z.string().nullable() }), { reports: [{ ...reportExample, files: [{ format: 'pdf', bytes: 48_213, contentType: 'application/pdf' }] }], cursor: null }) } },
      errors: ['invalid_parameter'],
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'GET /v1/reports/{id}',
    {
      operationId: 'getReport',
      summary: 'A report: its state, the newest data it covers, links to its files that expire, and its deliveries',
      tags,
      request: { params: z.object({ id: z.uuid().meta({ param: { description: 'The report id.' } }) }) },
      responses: { 200: { description: 'The report; when done, each file with a link that expires in an hour.', headers: NO_STORE, content: json(report, reportExample) } },
      errors: ['invalid_parameter', 'not_found'],
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'GET /v1/report-schedules',
    {
      operationId: 'getReportSchedules',
      summary: 'The report schedules, each with its next three runs in its own time zone',
      tags,
      responses: { 200: { description: 'Every schedule.', headers: NO_STORE, content: json(schedules, { schedules: [scheduleExample] }) } },
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'PUT /v1/report-schedules',
    {
      operationId: 'putReportSchedules',
      summary: 'Replaces the report schedules (EventBridge Scheduler schedules in AWS, timers locally)',
      description: 'Research reports are not scheduled: each spends the privacy budget and is asked for on its own.',
      tags,
      request: { body: { required: true, content: json(reportSchedulesSchema, { schedules: [{ id: 'weekly-outcomes', kind: 'outcomes', cron: '0 8 * * MON', timeZone: 'America/New_York', period: 'previous_week', formats: ['pdf', 'xlsx'], recipients: ['programme.lead@clinic.example'], enabled: true }] }) } },
      responses: { 200: { description: 'The schedules as stored, with their next runs.', headers: NO_STORE, content: json(schedules, { schedules: [scheduleExample] }) } },
      errors: BODY_ERRORS,
    },
    security,
  );

  registerRoute(
    registry,
    routes,
    'POST /v1/report-schedules/{id}/test',
    {
      operationId: 'testReportSchedule',
      summary: "Makes the schedule's latest period now and mails it to its recipients marked as a test",
      description: 'A test send never counts as the period mailed: the scheduled run still mails it.',
      tags,
      request: { params: z.object({ id: z.string().meta({ param: { description: 'The schedule id.' } }) }) },
      responses: { 202: { description: 'Queued; `Location` names its page.', headers: { Location: { schema: { type: 'string' }, description: '/v1/reports/{id}' } }, content: json(queued, { id: REPORT_ID, status: 'queued', kind: 'outcomes', period: periodExample }) } },
      errors: ['invalid_parameter', 'not_found'],
    },
    security,
  );
}
