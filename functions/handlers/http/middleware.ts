import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Logger } from '../../adapters/log';
import type { AuditLog } from '../../ports/audit';
import { AUDIT_PURPOSES, isAuditPurpose, type AuditAction, type AuditPurpose } from '../../domain/privacy/audit';
import type { Clock } from '../../ports';
import { HttpError, badRequest } from './errors';
import { isUnavailable } from '../../ports/unavailable';
import { bearerToken, unauthorized, type BearerVerifier } from './bearer';
import { ROUTES, authorize, resolveRoute, roleFromClaims, type Role, type RouteKey } from './roles';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export interface HttpApiOptions {
  readonly logger: Logger;
  /**
   * Checks bearer tokens itself when no API Gateway authorizer did (a Lambda function URL in the
   * LocalStack variant); unset in AWS, where a request without verified claims is refused.
   */
  readonly verifyBearer?: BearerVerifier;
  /** Where successful calls of audited routes are recorded; required by handlers that serve one. */
  readonly audit?: { readonly log: AuditLog; readonly clock: Clock };
}

/** The audit entry an audited call will get, decided with the role check, before the handler runs. */
const pendingAudits = new WeakMap<HttpEvent, { action: AuditAction; details: readonly string[]; role: Role | 'public'; purpose: string }>();
const auditNotes = new WeakMap<HttpEvent, Record<string, unknown>>();

/**
 * Adds validated values to the audit entry of this call; only the names its route declares in
 * `auditDetails` (ROUTES) are kept. Never a user's id or pseudonym: the trail cannot be erased.
 */
export function noteForAudit(event: HttpEvent, details: Readonly<Record<string, unknown>>): void {
  auditNotes.set(event, { ...auditNotes.get(event), ...details });
}

/** The caller's stated purpose of use (header `x-purpose`), recorded with every audited call. */
function purposeOf(event: HttpEvent): AuditPurpose | 'unstated' {
  const stated = event.headers?.['x-purpose'];
  if (stated === undefined || stated === '') return 'unstated';
  // A closed list: a free-form purpose would carry whatever a caller typed (a patient's name, say) into the trail.
  if (!isAuditPurpose(stated)) throw badRequest('invalid_header', `x-purpose: must be one of ${AUDIT_PURPOSES.join(', ')}`, { header: 'x-purpose' });
  return stated;
}

/** What the entry says of the request: the declared details the handler noted, nothing the caller sent as such. */
function declaredDetails(event: HttpEvent, declared: readonly string[]): Record<string, unknown> {
  const noted = auditNotes.get(event) ?? {};
  return Object.fromEntries(declared.filter((name) => noted[name] !== undefined).map((name) => [name, noted[name]]));
}

/** For an audited route: what its entry will say of the caller. Other routes ignore `x-purpose`. */
function planAudit(options: HttpApiOptions, event: HttpEvent, role: Role | 'public'): void {
  const route = ROUTES[event.routeKey as RouteKey];
  if (!('audit' in route)) return;
  if (!options.audit) throw new Error(`${event.routeKey} is audited but its handler was given no audit log`);
  pendingAudits.set(event, { action: route.audit, details: route.auditDetails, role, purpose: purposeOf(event) });
}

async function appendAudit(options: HttpApiOptions, event: HttpEvent): Promise<void> {
  const pending = pendingAudits.get(event);
  if (!pending || !options.audit) return;
  try {
    await options.audit.log.append({
      at: options.audit.clock.now().toISOString(),
      actor: String(event.requestContext.authorizer?.jwt?.claims?.['sub'] ?? 'unknown'),
      role: pending.role,
      action: pending.action,
      resource: event.routeKey,
      purpose: pending.purpose,
      details: declaredDetails(event, pending.details),
    });
  } catch {
    // No unrecorded release: without its audit entry the answer is withheld.
    throw new HttpError(503, 'audit_unavailable', 'the audit trail could not record this call, so its answer is withheld; retry');
  }
}

/** What API Gateway would have done before the handler: name the route, verify the token. */
async function asApiGatewayWould(event: HttpEvent, verifyBearer: BearerVerifier | undefined): Promise<void> {
  if (!(event.routeKey in ROUTES)) {
    const route = resolveRoute(event.requestContext.http.method, event.rawPath);
    if (route) {
      event.routeKey = route.routeKey;
      event.pathParameters = route.pathParameters;
    }
  }
  if (!verifyBearer || event.requestContext.authorizer?.jwt) return;
  const token = bearerToken(event.headers?.['authorization']);
  const verdict = token ? await verifyBearer(token) : { rejected: 'missing' as const };
  if ('claims' in verdict) {
    event.requestContext.authorizer = { principalId: verdict.claims['sub'] ?? '', integrationLatency: 0, jwt: { claims: verdict.claims, scopes: [] } };
  } else if (event.routeKey in ROUTES && ROUTES[event.routeKey as RouteKey].roles !== 'public') {
    const { code, message, details } = unauthorized(verdict.rejected);
    throw new HttpError(401, code, message, details);
  }
}

/**
 * The cross-cutting part of every HTTP handler: the route's role check before, and after an
 * error the API's error envelope. Bad input maps to its 4xx; anything unexpected is logged and
 * answered 500 without its message, which could carry data.
 */
export function httpApi(options: HttpApiOptions): middy.MiddlewareObj<HttpEvent, HttpResult> {
  if (!options.logger) throw new TypeError('httpApi: option logger is required');
  return {
    before: async function checkRole(request) {
      await asApiGatewayWould(request.event, options.verifyBearer);
      planAudit(options, request.event, authorize(request.event));
    },
    after: async function recordInAuditTrail(request) {
      const status = request.response?.statusCode ?? 200;
      options.logger.debug('answered', { route: request.event.routeKey, status });
      if (status < 300) await appendAudit(options, request.event);
    },
    onError: function answerError(request) {
      const error = request.error;
      if (error instanceof HttpError) {
        request.response = json(error.status, {
          error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) },
        });
        return;
      }
      if (isUnavailable(error)) {
        // A store out of reach is no fault of the request: the client may send it again.
        options.logger.error('a store is unavailable', { route: request.event.routeKey, error: error?.name ?? 'unknown' });
        request.response = json(503, { error: { code: 'unavailable', message: 'a store is unavailable; retry shortly' } }, { 'retry-after': '1' });
        return;
      }
      options.logger.error('unhandled error', { route: request.event.routeKey, error: error?.name ?? 'unknown' });
      request.response = json(500, { error: { code: 'internal', message: 'internal error' } });
    },
  };
}

/** The request body as text, whichever way API Gateway encoded it. */
export function bodyText(event: Pick<HttpEvent, 'body' | 'isBase64Encoded'>): string {
  if (event.body === undefined) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** A request body's text parsed as JSON; 400 `malformed_json` when it is not. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('malformed_json', 'the body is not valid JSON');
  }
}

export const jsonBody = (event: Pick<HttpEvent, 'body' | 'isBase64Encoded'>): unknown => parseJson(bodyText(event));

export type RouteHandlers = Partial<Record<RouteKey, (event: HttpEvent) => Promise<HttpResult>>>;

/** A Lambda that serves several routes of ROUTES, each by its own function, behind `httpApi`. */
export function routedHandler(routes: RouteHandlers, options: HttpApiOptions) {
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    const route = routes[event.routeKey as RouteKey];
    if (!route) throw new HttpError(404, 'not_found', `no route ${event.routeKey}`);
    return route(event);
  }).use(httpApi(options));
}

/** Who called, for the records that keep it (privacy ledger, report index, alert rules, silences, acknowledgements). */
export function callerOf(event: HttpEvent): { actor: string; role: string } {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  return { actor: String(claims?.['sub'] ?? 'unknown'), role: roleFromClaims(claims) ?? 'unknown' };
}

/** Refuses a query parameter the route does not take, naming it and the ones it does. */
export function onlyParameters(event: Pick<HttpEvent, 'queryStringParameters'>, allowed: readonly string[]): void {
  const unknown = Object.keys(event.queryStringParameters ?? {}).find((name) => !allowed.includes(name));
  if (unknown === undefined) return;
  throw badRequest('invalid_parameter', `${unknown === '' ? '(a parameter without a name)' : unknown}: unknown parameter; allowed: ${allowed.join(', ')}`, { parameter: unknown });
}
