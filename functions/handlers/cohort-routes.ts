import { z } from 'zod';
import { COMPARABLE_METRIC_NAMES } from '../domain/behaviour/cohort-comparison';
import { newCohortSchema } from '../domain/behaviour/cohorts';
import { MAX_COHORTS, type Cohorts } from '../use-cases/cohorts';
import { HttpError, badRequest, invalidBody } from './http/errors';
import { callerOf, json, jsonBody, noteForAudit, onlyParameters, type HttpEvent, type HttpResult } from './http/middleware';

const COHORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_PERIODS = 52;
const WITHHELD = { reason: 'k_anonymity' } as const;
const noStore = { 'cache-control': 'no-store' };

function cohortId(value: string | undefined, parameter: string): string {
  if (value === undefined || !COHORT_ID.test(value)) throw badRequest('invalid_parameter', `${parameter}: must be a cohort id (a lowercase UUID)`, { parameter });
  return value;
}

const notFound = (id: string) => new HttpError(404, 'not_found', `no cohort ${id}`);

const retentionQuery = z
  .object({
    period: z.literal('week', { error: 'must be week' }).default('week'),
    periods: z.coerce.number().int('must be a whole number').min(1).max(MAX_PERIODS).default(12),
  });

const metricList = z
  .string()
  .transform((list) => list.split(','))
  .pipe(z.array(z.enum(COMPARABLE_METRIC_NAMES)).min(1).max(COMPARABLE_METRIC_NAMES.length));

function parameterError(error: z.ZodError): HttpError {
  const issue = error.issues[0]!;
  const parameter = String(issue.path[0] ?? '');
  return badRequest('invalid_parameter', `${parameter}: ${issue.message}`, { parameter });
}

/** POST /v1/cohorts: stores a definition (members are found on each read). */
async function postCohort(cohorts: Cohorts, event: HttpEvent): Promise<HttpResult> {
  const parsed = newCohortSchema.safeParse(jsonBody(event));
  if (!parsed.success) throw invalidBody(parsed.error.issues);
  const result = await cohorts.create(parsed.data, callerOf(event).actor);
  if (result.status === 'limit_reached') throw new HttpError(409, 'limit_reached', `at most ${MAX_COHORTS} cohorts are kept`);
  if (result.status === 'unknown_pattern') throw badRequest('invalid_request', `${result.field}: ${result.message}`, { field: result.field });
  const { createdBy: _createdBy, ...cohort } = result.cohort;
  noteForAudit(event, { cohort: cohort.id, definition: cohort.definition });
  return json(201, cohort);
}

async function listCohorts(cohorts: Cohorts, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, []);
  const answer = await cohorts.list();
  noteForAudit(event, { count: answer.cohorts.length });
  return json(200, answer, noStore);
}

async function getRetention(cohorts: Cohorts, event: HttpEvent): Promise<HttpResult> {
  const id = cohortId(event.pathParameters?.['id'], 'id');
  onlyParameters(event, ['period', 'periods']);
  const query = retentionQuery.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw parameterError(query.error);
  noteForAudit(event, { cohort: id, period: query.data.period, periods: query.data.periods });
  const read = await cohorts.retention(id, query.data.periods);
  if (read.status === 'not_found') throw notFound(id);
  if (read.status === 'withheld') return json(200, { cohort: id, period: query.data.period, rows: [], suppressed: [WITHHELD] }, noStore);
  return json(200, { cohort: id, ...read.retention }, noStore);
}

async function getComparison(cohorts: Cohorts, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, ['a', 'b', 'metric']);
  const query = event.queryStringParameters ?? {};
  const [a, b] = [cohortId(query['a'], 'a'), cohortId(query['b'], 'b')];
  const metrics = metricList.safeParse(query['metric'] ?? '');
  if (!metrics.success) throw badRequest('invalid_parameter', `metric: one or more of ${COMPARABLE_METRIC_NAMES.join(', ')}, comma-separated`, { parameter: 'metric' });
  noteForAudit(event, { a, b, metric: metrics.data });
  const read = await cohorts.compare(a, b, metrics.data);
  if (read.status === 'not_found') throw new HttpError(404, 'not_found', `no cohort ${a} or no cohort ${b}`);
  if (read.status === 'withheld') return json(200, { a: { id: a }, b: { id: b }, metrics: [], suppressed: [WITHHELD] }, noStore);
  const [left, right] = read.cohorts;
  return json(200, { a: { id: left.id, name: left.name }, b: { id: right.id, name: right.name }, ...read.comparison }, noStore);
}

/** The cohort routes of the query function. */
export function cohortRoutes(cohorts: Cohorts) {
  return {
    'POST /v1/cohorts': (event: HttpEvent) => postCohort(cohorts, event),
    'GET /v1/cohorts': (event: HttpEvent) => listCohorts(cohorts, event),
    'GET /v1/cohorts/{id}/retention': (event: HttpEvent) => getRetention(cohorts, event),
    'GET /v1/cohorts/compare': (event: HttpEvent) => getComparison(cohorts, event),
  } as const;
}
