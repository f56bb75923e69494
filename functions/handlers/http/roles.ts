import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { HttpError } from './errors';

export const ROLES = ['admin', 'analyst', 'clinician', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Every route of the API and who may call it: the one place roles are enforced (the local
 * runtime routes by it too). `public` routes need no token.
 */
export const ROUTES = {
  'POST /v1/events': { handler: 'ingest', roles: ['admin', 'ingest'] },
  'GET /v1/metrics/{metric}': { handler: 'query', roles: ['admin', 'analyst'] },
  'GET /openapi.json': { handler: 'query', roles: 'public' },
} as const satisfies Record<string, { handler: string; roles: readonly Role[] | 'public' }>;

export type RouteKey = keyof typeof ROUTES;

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
