import { MAX_DASHBOARDS_PER_OWNER, dashboardUpdateSchema, newDashboardSchema } from '../domain/dashboards/dashboard';
import { READY_MADE_DASHBOARDS, readyMadeDashboard } from '../domain/dashboards/ready-made';
import type { Dashboards, Unchangeable } from '../use-cases/dashboards';
import { HttpError, badRequest, invalidBody } from './http/errors';
import { callerOf, json, jsonBody, noteForAudit, onlyParameters, type HttpEvent, type HttpResult } from './http/middleware';

const STORED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const noStore = { 'cache-control': 'no-store' };

/** The path's dashboard id: a ready-made one's or a saved one's (a lowercase UUID). */
function dashboardId(event: HttpEvent): string {
  const id = event.pathParameters?.['id'];
  if (id !== undefined && (STORED_ID.test(id) || readyMadeDashboard(id))) return id;
  const readyMade = READY_MADE_DASHBOARDS.map((dashboard) => dashboard.id).join(', ');
  throw badRequest('invalid_parameter', `id: must be a dashboard id: a lowercase UUID, or one of the ready-made ${readyMade}`, { parameter: 'id' });
}

const notFound = (id: string) => new HttpError(404, 'not_found', `no dashboard ${id}`);

/** 403 for a dashboard the caller sees but may not change, saying why and what to do instead. */
function refusal(id: string, result: Unchangeable): HttpError {
  if (result.status === 'not_found') return notFound(id);
  if (result.status === 'read_only') return new HttpError(403, 'read_only', `${id} is a ready-made dashboard: nobody changes or deletes it; POST its title, sharedWith and widgets to /v1/dashboards to make a copy of your own`);
  return new HttpError(403, 'forbidden', `only the owner of dashboard ${id} or an admin may change or delete it; POST a copy to /v1/dashboards to make one of your own`);
}

async function listDashboards(dashboards: Dashboards, event: HttpEvent): Promise<HttpResult> {
  onlyParameters(event, []);
  return json(200, { dashboards: await dashboards.list(callerOf(event)) }, noStore);
}

async function getDashboard(dashboards: Dashboards, event: HttpEvent): Promise<HttpResult> {
  const id = dashboardId(event);
  onlyParameters(event, []);
  const dashboard = await dashboards.get(id, callerOf(event));
  if (!dashboard) throw notFound(id);
  return json(200, dashboard, noStore);
}

async function postDashboard(dashboards: Dashboards, event: HttpEvent): Promise<HttpResult> {
  const parsed = newDashboardSchema.safeParse(jsonBody(event));
  if (!parsed.success) throw invalidBody(parsed.error.issues);
  const result = await dashboards.create(parsed.data, callerOf(event));
  if (result.status === 'invalid') throw invalidBody([result.issue]);
  if (result.status === 'limit_reached') throw new HttpError(409, 'limit_reached', `at most ${MAX_DASHBOARDS_PER_OWNER} dashboards are kept per owner: delete one first`);
  noteForAudit(event, { dashboard: result.dashboard.id });
  return json(201, result.dashboard, noStore);
}

async function putDashboard(dashboards: Dashboards, event: HttpEvent): Promise<HttpResult> {
  const id = dashboardId(event);
  const parsed = dashboardUpdateSchema.safeParse(jsonBody(event));
  if (!parsed.success) throw invalidBody(parsed.error.issues);
  const result = await dashboards.save(id, parsed.data, callerOf(event));
  if (result.status === 'invalid') throw invalidBody([result.issue]);
  if (result.status === 'stale') {
    throw new HttpError(409, 'version_conflict', `dashboard ${id} was saved since version ${parsed.data.version}: it is at version ${result.version}, and nothing was changed; read it again, make the change on that version and send it with its version`, { currentVersion: result.version });
  }
  if (result.status !== 'saved') throw refusal(id, result);
  noteForAudit(event, { dashboard: id, version: result.dashboard.version });
  return json(200, result.dashboard, noStore);
}

async function deleteDashboard(dashboards: Dashboards, event: HttpEvent): Promise<HttpResult> {
  const id = dashboardId(event);
  const result = await dashboards.remove(id, callerOf(event));
  if (result.status !== 'deleted') throw refusal(id, result);
  noteForAudit(event, { dashboard: id });
  return json(200, { id, deleted: true });
}

/** The dashboard routes of the query function. */
export function dashboardRoutes(dashboards: Dashboards) {
  return {
    'GET /v1/dashboards': (event: HttpEvent) => listDashboards(dashboards, event),
    'POST /v1/dashboards': (event: HttpEvent) => postDashboard(dashboards, event),
    'GET /v1/dashboards/{id}': (event: HttpEvent) => getDashboard(dashboards, event),
    'PUT /v1/dashboards/{id}': (event: HttpEvent) => putDashboard(dashboards, event),
    'DELETE /v1/dashboards/{id}': (event: HttpEvent) => deleteDashboard(dashboards, event),
  } as const;
}
