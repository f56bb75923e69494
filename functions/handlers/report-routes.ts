import { z } from 'zod';
import { RESEARCH_DATASET } from '../domain/privacy/research-release';
import { REPORT_KINDS } from '../domain/reports/document';
import { REPORT_LIST_LIMIT, reportRequestSchema, reportSchedulesSchema } from '../domain/reports/request';
import { slug } from '../domain/api/input-bounds';
import type { Reports } from '../use-cases/reports';
import { HttpError, badRequest, invalidBody } from './http/errors';
import { callerOf, json, jsonBody, noteForAudit, onlyParameters, type HttpEvent, type HttpResult } from './http/middleware';

const REPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const noStore = { 'cache-control': 'no-store' };

export const budgetExhausted = (remaining: { epsilon: number; delta: number }) =>
  new HttpError(403, 'privacy_budget_exhausted', `the ${RESEARCH_DATASET} budget has epsilon ${remaining.epsilon} and delta ${remaining.delta} left; this release asks for more`, { remaining });

const listQuery = z.strictObject({
  kind: z.enum(REPORT_KINDS).optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(REPORT_LIST_LIMIT.max).default(REPORT_LIST_LIMIT.default),
  cursor: z.string().max(512).optional(),
});

function parameterError(issue: z.core.$ZodIssue): HttpError {
  const parameter = String(issue.path[0] ?? '');
  return badRequest('invalid_parameter', `${parameter}: ${issue.message}`, { parameter });
}

/** POST /v1/reports: 202 and the queued run; the report function makes it. */
async function postReport(reports: Reports, event: HttpEvent): Promise<HttpResult> {
  const parsed = reportRequestSchema.safeParse(jsonBody(event));
  if (!parsed.success) throw invalidBody(parsed.error.issues);
  const { kind, from, to, format } = parsed.data;
  const research = parsed.data.kind === 'research' ? { epsilon: parsed.data.epsilon, delta: parsed.data.delta, mechanism: parsed.data.mechanism, maxContributionsPerUser: parsed.data.maxContributionsPerUser } : {};
  const result = await reports.request(parsed.data, callerOf(event));
  noteForAudit(event, { kind, from, to, format, ...research, outcome: result.status, ...(result.status === 'queued' && { report: result.run.id }) });
  if (result.status === 'refused') throw budgetExhausted(result.remaining);
  return json(202, { id: result.run.id, status: result.run.status, kind: result.run.kind, period: result.run.period }, { location: `/v1/reports/${result.run.id}` });
}

async function getReport(reports: Reports, event: HttpEvent): Promise<HttpResult> {
  const id = event.pathParameters?.['id'] ?? '';
  if (!REPORT_ID.test(id)) throw badRequest('invalid_parameter', 'id: must be a report id (a lowercase UUID)', { parameter: 'id' });
  onlyParameters(event, []);
  noteForAudit(event, { id });
  const view = await reports.view(id);
  if (!view) throw new HttpError(404, 'not_found', `no report ${id}`);
  return json(200, view, noStore);
}

async function listReports(reports: Reports, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, ['kind', 'limit', 'cursor']);
  const query = listQuery.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw parameterError(query.error.issues[0]!);
  try {
    const page = await reports.list(query.data);
    noteForAudit(event, { ...(query.data.kind && { kind: query.data.kind }), count: page.reports.length });
    return json(200, page, noStore);
  } catch (error) {
    if (error instanceof RangeError) throw badRequest('invalid_parameter', `cursor: ${error.message}`, { parameter: 'cursor' });
    throw error;
  }
}

async function putSchedules(reports: Reports, event: HttpEvent): Promise<HttpResult> {
  const parsed = reportSchedulesSchema.safeParse(jsonBody(event));
  if (!parsed.success) throw invalidBody(parsed.error.issues);
  const answer = await reports.replaceSchedules(parsed.data.schedules);
  // Which schedules, not who they mail: the trail cannot be erased, addresses can change hands.
  noteForAudit(event, { schedules: parsed.data.schedules.map(({ id, kind, cron, timeZone, period, formats, enabled, recipients }) => ({ id, kind, cron, timeZone, period, formats, enabled, recipients: recipients.length })) });
  return json(200, answer, noStore);
}

async function testSchedule(reports: Reports, event: HttpEvent): Promise<HttpResult> {
  const id = slug.safeParse(event.pathParameters?.['id']);
  if (!id.success) throw badRequest('invalid_parameter', `id: ${id.error.issues[0]!.message}`, { parameter: 'id' });
  const run = await reports.testSchedule(id.data, callerOf(event));
  if (!run) throw new HttpError(404, 'not_found', `no report schedule ${id.data}`);
  noteForAudit(event, { schedule: id.data, report: run.id });
  return json(202, { id: run.id, status: run.status, kind: run.kind, period: run.period }, { location: `/v1/reports/${run.id}` });
}

/** The report routes of the query function. */
export function reportRoutes(reports: Reports) {
  return {
    'POST /v1/reports': (event: HttpEvent) => postReport(reports, event),
    'GET /v1/reports': (event: HttpEvent) => listReports(reports, event),
    'GET /v1/reports/{id}': (event: HttpEvent) => getReport(reports, event),
    'GET /v1/report-schedules': async () => json(200, await reports.schedules(), noStore),
    'PUT /v1/report-schedules': (event: HttpEvent) => putSchedules(reports, event),
    'POST /v1/report-schedules/{id}/test': (event: HttpEvent) => testSchedule(reports, event),
  };
}
