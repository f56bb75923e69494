import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DASHBOARD_ROLES, MAX_DASHBOARDS_PER_OWNER, MAX_WIDGETS, dashboardUpdateSchema, newDashboardSchema, widgetSchema, type Dashboard } from '../dashboards/dashboard';
import { READY_MADE_DASHBOARDS, READY_MADE_OWNER } from '../dashboards/ready-made';
import { BODY_ERRORS, NO_STORE, json, registerRoute, type RouteTable } from './openapi-route';

/*
 * Dashboards (DESIGN.md "Dashboards"): the ready-made ones and those staff save, with optimistic
 * versions. The answers are the use case's Dashboard; the examples are typed as one.
 */

const tags = ['Dashboards'];
const DASHBOARD_ID = '9b2e4f1c-3a5d-4e6f-8a7b-1c2d3e4f5a6b';
const readyMadeIds = READY_MADE_DASHBOARDS.map((dashboard) => dashboard.id);

const dashboard = z
  .object({
    id: z.string().meta({ description: `A UUID, or a ready-made dashboard's name (${readyMadeIds.join(', ')}).` }),
    title: z.string(),
    owner: z.string().meta({ description: `The token subject of the staff member who made it; \`${READY_MADE_OWNER}\` for the ready-made ones, which nobody changes.` }),
    sharedWith: z.array(z.enum(DASHBOARD_ROLES)),
    version: z.number().int().min(1).meta({ description: 'Moves on by one with each save; send it back with the next.' }),
    widgets: z.array(widgetSchema),
  })
  .meta({ id: 'Dashboard' }) satisfies z.ZodType<Dashboard>;

const content = {
  title: 'Weekly engagement, iOS and Android',
  sharedWith: ['analyst'],
  widgets: [
    { id: 'sessions', title: 'Sessions per day by platform', query: { metric: 'sessions', interval: 'day', groupBy: ['platform'], filter: { platform: ['ios', 'android'] }, timeZone: 'Europe/London', range: 'P30D' }, chart: 'line', grid: { x: 0, y: 0, w: 6, h: 4 } },
    { id: 'mood', title: 'Mood valence, weekly', query: { metric: 'mood.valence', interval: 'week', groupBy: [], range: 'P12W' }, chart: 'bar', grid: { x: 6, y: 0, w: 6, h: 4 } },
  ],
} satisfies Omit<Dashboard, 'id' | 'owner' | 'version'>;
const example: Dashboard = { id: DASHBOARD_ID, owner: 'analyst-3', version: 4, ...content };

const idParams = z.object({ id: z.string().meta({ param: { description: `The dashboard id: a lowercase UUID, or a ready-made one (${readyMadeIds.join(', ')}).`, example: DASHBOARD_ID } }) });

const ACCESS =
  'A dashboard is seen by its owner, by admins and by the roles in `sharedWith`, and changed or deleted by its owner and admins; another\'s that the caller cannot see is not found. ' +
  "A dashboard holds queries, not figures: each widget's data is read through GET /v1/metrics/{metric}, with that route's roles and release gate (a clinician may be shown a dashboard, not its figures).";

const VALIDATION =
  `At most ${MAX_WIDGETS} widgets on a grid of 12 columns. Each widget's query is checked as GET /v1/metrics/{metric} would take it over its range ending now: the metric's own dimensions in \`groupBy\` and \`filter\`, an IANA \`timeZone\`, ` +
  'no more than 10,000 buckets, and a `range` (an ISO-8601 duration) that does not reach back past the rollups it is read from (minute and hour rollups are purged after their retention). A 400 names the field, like `widgets[1].query.groupBy` (`details.field`: `widgets.1.query.groupBy`).';

/** GET and POST /v1/dashboards, GET, PUT and DELETE /v1/dashboards/{id}. */
export function registerDashboards(registry: OpenAPIRegistry, routes: RouteTable, security: RouteConfig['security']): void {
  const route = (routeKey: string, document: Parameters<typeof registerRoute>[3]) => registerRoute(registry, routes, routeKey, document, security);

  route('GET /v1/dashboards', {
    operationId: 'listDashboards',
    summary: 'The dashboards the caller may see: the ready-made ones first, then the saved ones, oldest first',
    description: `${ACCESS} The ready-made dashboards (${readyMadeIds.join(', ')}) are shared with admins and analysts.`,
    tags,
    responses: { 200: { description: 'The dashboards, whole.', headers: NO_STORE, content: json(z.object({ dashboards: z.array(dashboard) }).meta({ id: 'DashboardList' }), { dashboards: [READY_MADE_DASHBOARDS[0]!, example] }) } },
    errors: ['invalid_parameter'],
  });

  route('POST /v1/dashboards', {
    operationId: 'createDashboard',
    summary: 'Saves a new dashboard, owned by the caller, at version 1',
    description: `${VALIDATION} To duplicate a dashboard (a ready-made one, say), send its title, sharedWith and widgets. At most ${MAX_DASHBOARDS_PER_OWNER} dashboards per owner. ${ACCESS}`,
    tags,
    request: { body: { required: true, content: json(newDashboardSchema, content) } },
    responses: { 201: { description: 'The dashboard as saved.', headers: NO_STORE, content: json(dashboard, { ...example, version: 1 }) } },
    errors: [...BODY_ERRORS, 'limit_reached'],
  });

  route('GET /v1/dashboards/{id}', {
    operationId: 'getDashboard',
    summary: 'A dashboard the caller may see',
    description: ACCESS,
    tags,
    request: { params: idParams },
    responses: { 200: { description: 'The dashboard.', headers: NO_STORE, content: json(dashboard, example) } },
    errors: ['not_found'],
  });

  route('PUT /v1/dashboards/{id}', {
    operationId: 'saveDashboard',
    summary: 'Replaces a dashboard as a whole, if nobody saved it since the version sent',
    description: `Optimistic: the body names the version it was made from, and the save is a compare-and-set on it; of two saves made from the same version one is kept and the other answers 409 \`version_conflict\`, changing nothing. ${VALIDATION} ${ACCESS}`,
    tags,
    request: { params: idParams, body: { required: true, content: json(dashboardUpdateSchema, { version: 4, ...content }) } },
    responses: { 200: { description: 'The dashboard as saved, at its next version.', headers: NO_STORE, content: json(dashboard, { ...example, version: 5 }) } },
    errors: [...BODY_ERRORS, 'read_only', 'not_found', 'version_conflict'],
  });

  route('DELETE /v1/dashboards/{id}', {
    operationId: 'deleteDashboard',
    summary: 'Deletes a dashboard',
    description: ACCESS,
    tags,
    request: { params: idParams },
    responses: { 200: { description: 'Deleted.', content: json(z.object({ id: z.string(), deleted: z.literal(true) }), { id: DASHBOARD_ID, deleted: true }) } },
    errors: ['read_only', 'not_found'],
  });
}
