import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { AuditAction } from '../../domain/privacy/audit';
import { HttpError, badRequest } from './errors';

export const ROLES = ['admin', 'analyst', 'clinician', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Every route of the API and who may call it: the one place roles are enforced (the local
 * runtime routes by it too). `public` routes need no token. `releases` marks a route that
 * answers cross-user aggregates, which must pass the release gate (test/e2e/release-gate.test.ts
 * tries each with a group of k - 1 users). `audit` names what a successful call appends to the
 * audit trail; a route that reads analytics data or changes anything must have one
 * (test/e2e/audit.test.ts). `auditDetails` declares the only details its entry may hold, each
 * noted by the handler after validation: the trail cannot be erased, so nothing the caller sent
 * reaches it unasked, and a user id in a path never does (not even as a pseudonym, which erasure
 * could then not reach).
 */
type RouteSpec = { handler: string; roles: readonly Role[] | 'public'; releases?: true } & (
  | { audit?: never; auditDetails?: never }
  | { audit: AuditAction; auditDetails: readonly string[] }
);

export const ROUTES = {
  'POST /v1/events': { handler: 'ingest', roles: ['admin', 'ingest'] },
  'PUT /v1/consent/{userId}': { handler: 'privacy', roles: ['admin', 'ingest'], audit: 'consent', auditDetails: ['scopes'] },
  // The catalogue holds no data, only what may be asked: same callers, nothing released, nothing read to audit.
  'GET /v1/metrics': { handler: 'query', roles: ['admin', 'analyst'] },
  'GET /v1/metrics/{metric}': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['metric', 'interval', 'timeZone', 'from', 'to', 'groupBy', 'filter'] },
  'POST /v1/research/exports': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'export', auditDetails: ['metric', 'from', 'to', 'epsilon', 'delta', 'mechanism', 'maxContributionsPerUser', 'outcome'] },
  'GET /v1/privacy/budget': { handler: 'query', roles: ['admin', 'analyst'] },
  // A definition holds no data; its creation is recorded like any other configuration.
  'POST /v1/cohorts': { handler: 'query', roles: ['admin', 'analyst'], audit: 'configure', auditDetails: ['cohort', 'definition'] },
  'GET /v1/cohorts': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['count'] },
  'GET /v1/cohorts/{id}/retention': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['cohort', 'period', 'periods'] },
  'GET /v1/cohorts/compare': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['a', 'b', 'metric'] },
  'POST /v1/reports': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'export', auditDetails: ['kind', 'from', 'to', 'format', 'epsilon', 'delta', 'mechanism', 'maxContributionsPerUser', 'outcome', 'report'] },
  'GET /v1/reports': { handler: 'query', roles: ['admin', 'analyst'], audit: 'read', auditDetails: ['kind', 'count'] },
  'GET /v1/reports/{id}': { handler: 'query', roles: ['admin', 'analyst'], audit: 'read', auditDetails: ['id'] },
  // Schedules hold who is mailed: read by the same callers as reports, changed by an admin only.
  'GET /v1/report-schedules': { handler: 'query', roles: ['admin', 'analyst'] },
  'PUT /v1/report-schedules': { handler: 'query', roles: ['admin'], audit: 'configure', auditDetails: ['schedules'] },
  // Its report is made and released by the same worker and report definitions as POST /v1/reports, whose release-gate check covers them.
  'POST /v1/report-schedules/{id}/test': { handler: 'query', roles: ['admin'], audit: 'export', auditDetails: ['schedule', 'report'] },
  'DELETE /v1/users/{userId}/data': { handler: 'privacy', roles: ['admin'], audit: 'erase', auditDetails: ['receiptId', 'removed'] },
  'GET /v1/audit': { handler: 'privacy', roles: ['admin'] },
  // Who sees whose alerts is an administrator's decision; the ids are pseudonymised as consent's are.
  'PUT /v1/clinicians/{clinicianId}/users': { handler: 'privacy', roles: ['admin'], audit: 'configure', auditDetails: ['clinician', 'users'] },
  // A clinician reads and sets their own (the handler refuses another's); an administrator anyone's.
  'GET /v1/clinicians/{clinicianId}/preferences': { handler: 'alerts', roles: ['admin', 'clinician'] },
  'PUT /v1/clinicians/{clinicianId}/preferences': { handler: 'alerts', roles: ['admin', 'clinician'], audit: 'configure', auditDetails: ['clinician'] },
  // Alerts name pseudonymous users: a read is audited like any read of health data.
  'GET /v1/alerts': { handler: 'alerts', roles: ['admin', 'clinician'], audit: 'read', auditDetails: ['status', 'severity', 'count'] },
  'POST /v1/alerts/{id}/ack': { handler: 'alerts', roles: ['admin', 'clinician'], audit: 'configure', auditDetails: ['id'] },
  'GET /v1/alert-rules': { handler: 'alerts', roles: ['admin', 'clinician'] },
  'PUT /v1/alert-rules': { handler: 'alerts', roles: ['admin'], audit: 'configure', auditDetails: ['rules'] },
  'GET /v1/silences': { handler: 'alerts', roles: ['admin', 'clinician'] },
  // Silencing a safety alert is a decision about patients' care: only an administrator makes it.
  'POST /v1/silences': { handler: 'alerts', roles: ['admin'], audit: 'configure', auditDetails: ['silence', 'endsAt'] },
  'DELETE /v1/silences/{id}': { handler: 'alerts', roles: ['admin'], audit: 'configure', auditDetails: ['id'] },
  'GET /v1/patterns': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['kind', 'version', 'count'] },
  'GET /v1/anomalies': { handler: 'alerts', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['from', 'to', 'series', 'limit', 'count'] },
  'GET /v1/interventions/effectiveness': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['from', 'to', 'count'] },
  'GET /v1/predictions': { handler: 'query', roles: ['admin', 'analyst'], releases: true, audit: 'read', auditDetails: ['cohort', 'model', 'count'] },
  // Dashboards are configuration, no data: listed and read unaudited, changes recorded. A
  // clinician may keep and be shown dashboards; their widgets' figures come through the metrics
  // routes, whose own roles apply.
  'GET /v1/dashboards': { handler: 'query', roles: ['admin', 'analyst', 'clinician'] },
  'POST /v1/dashboards': { handler: 'query', roles: ['admin', 'analyst', 'clinician'], audit: 'configure', auditDetails: ['dashboard'] },
  'GET /v1/dashboards/{id}': { handler: 'query', roles: ['admin', 'analyst', 'clinician'] },
  'PUT /v1/dashboards/{id}': { handler: 'query', roles: ['admin', 'analyst', 'clinician'], audit: 'configure', auditDetails: ['dashboard', 'version'] },
  'DELETE /v1/dashboards/{id}': { handler: 'query', roles: ['admin', 'analyst', 'clinician'], audit: 'configure', auditDetails: ['dashboard'] },
  'GET /openapi.json': { handler: 'query', roles: 'public' },
} as const satisfies Record<string, RouteSpec>;

export type RouteKey = keyof typeof ROUTES;

/**
 * GET /v1/live (server-sent events) is no route of the HTTP API, which buffers answers: the local
 * runtime serves it itself and, in AWS, a streaming function behind CloudFront. Every reader of
 * the dashboards may watch it; an ingest token reads nothing.
 */
export const LIVE_ROLES: readonly Role[] = ['admin', 'analyst', 'clinician'];

/** The functions that serve the API, by the name of their handler. */
export type RouteHandler = (typeof ROUTES)[RouteKey]['handler'];

export interface ResolvedRoute {
  readonly routeKey: RouteKey;
  readonly pathParameters: Record<string, string>;
}

const ROUTE_PATTERNS = (Object.keys(ROUTES) as RouteKey[]).map((routeKey) => {
  const [method, template] = routeKey.split(' ') as [string, string];
  const names: string[] = [];
  const pattern = template.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { routeKey, method, names, regex: new RegExp(`^${pattern}$`) };
});

/** A path parameter as the handlers get it: percent-decoded, or 400 when its escapes are not UTF-8. */
function decodeParameter(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest('invalid_parameter', `${name}: is not valid percent-encoding of UTF-8 text`, { parameter: name });
  }
}

/**
 * The route a method and path fall on, as API Gateway would match them: for callers that have
 * no route key of their own (the local HTTP server, Lambda function URLs).
 */
export function resolveRoute(method: string, path: string): ResolvedRoute | undefined {
  for (const route of ROUTE_PATTERNS) {
    if (route.method !== method) continue;
    const match = route.regex.exec(path);
    if (!match) continue;
    const pathParameters: Record<string, string> = {};
    route.names.forEach((name, index) => (pathParameters[name] = decodeParameter(name, match[index + 1] ?? '')));
    return { routeKey: route.routeKey, pathParameters };
  }
  return undefined;
}

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * The caller's role from the JWT claims API Gateway verified: a `role` claim, Cognito's
 * `custom:role`, or the first Cognito group that names a role (API Gateway passes arrays as
 * `[a b]` strings).
 */
export function roleFromClaims(claims: Readonly<Record<string, unknown>> | undefined): Role | undefined {
  if (!claims) return undefined;
  for (const candidate of [claims['role'], claims['custom:role']]) if (isRole(candidate)) return candidate;
  const groups = claims['cognito:groups'];
  const list = Array.isArray(groups) ? groups : typeof groups === 'string' ? groups.replace(/^\[|\]$/g, '').split(/[\s,]+/) : [];
  return list.find(isRole);
}

export function authorize(event: Pick<APIGatewayProxyEventV2WithJWTAuthorizer, 'routeKey' | 'requestContext'>): Role | 'public' {
  const route = ROUTES[event.routeKey as RouteKey];
  if (!route) throw new HttpError(404, 'not_found', `no route ${event.routeKey}`);
  if (route.roles === 'public') return 'public';
  const role = roleFromClaims(event.requestContext.authorizer?.jwt?.claims);
  if (!role) throw new HttpError(401, 'unauthorized', 'a bearer token with a role is required');
  if (!(route.roles as readonly Role[]).includes(role)) {
    throw new HttpError(403, 'forbidden', `role ${role} may not call ${event.routeKey}`);
  }
  return role;
}
