import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { AUDIT_PURPOSES } from '../privacy/audit';

/*
 * What every route of the document shares, derived from the route table (ROUTES, passed in: the
 * domain does not import the handlers) so the document says what the HTTP layer does: a bearer
 * token unless public, the roles, the `x-purpose` header and its 400 on audited routes, and each
 * error code the route can answer, by status, with an example of each.
 */

/** What the document needs of a route of ROUTES (functions/handlers/http/roles.ts). */
export interface RouteAccess {
  readonly roles: readonly string[] | 'public';
  readonly audit?: string;
}

export type RouteTable = Readonly<Record<string, RouteAccess>>;

const BEARER_REJECTIONS = ['missing', 'malformed', 'expired', 'bad_signature', 'not_accepted'] as const;

interface ErrorCase {
  readonly status: number;
  /** When the code is answered. */
  readonly when: string;
  readonly example: { readonly message: string; readonly details?: Record<string, unknown> };
  readonly details?: z.ZodType;
}

const fieldDetails = z.object({ field: z.string().meta({ description: 'The body field at fault, dotted (rules.0.id).' }) }).partial();
const parameterDetails = z.object({ parameter: z.string().meta({ description: 'The path or query parameter at fault.' }) });

/** Every error code of the API, as the handlers and the local runtime's front answer them (grep `new HttpError(`, `badRequest(`). */
export const ERRORS = {
  malformed_json: { status: 400, when: 'The body is not valid JSON.', example: { message: 'the body is not valid JSON' } },
  body_not_object: {
    status: 400,
    when: 'The body is JSON but not an object.',
    example: { message: 'the body must be a JSON object: Invalid input: expected object, received array' },
  },
  invalid_request: {
    status: 400,
    when: 'A body field is missing, out of range or unknown; `details.field` names it.',
    example: { message: 'epsilon: Too big: expected number to be <=10', details: { field: 'epsilon' } },
    details: fieldDetails,
  },
  invalid_body: {
    status: 400,
    when: 'A silence whose window is over or longer than 30 days, judged against the clock.',
    example: { message: 'endsAt: must be in the future', details: { field: 'endsAt' } },
    details: fieldDetails,
  },
  invalid_parameter: {
    status: 400,
    when: 'A path or query parameter is bad, unknown or not valid percent-encoding; `details.parameter` names it.',
    example: { message: 'interval: must be one of minute, hour, day, week, month', details: { parameter: 'interval' } },
    details: parameterDetails,
  },
  invalid_header: {
    status: 400,
    when: '`x-purpose` is not one of the stated purposes.',
    example: { message: `x-purpose: must be one of ${AUDIT_PURPOSES.join(', ')}`, details: { header: 'x-purpose' } },
    details: z.object({ header: z.literal('x-purpose') }),
  },
  unauthorized: {
    status: 401,
    when: 'No bearer token, or one that is malformed, expired, not signed by this API or not accepted (issuer, audience, validity window); `details.reason` says which.',
    example: { message: 'the bearer token has expired: get a new one', details: { reason: 'expired' } },
    details: z.object({ reason: z.enum(BEARER_REJECTIONS) }),
  },
  forbidden: { status: 403, when: "The token's role may not call this route, or the caller may not change this resource (another's preferences, another's dashboard).", example: { message: 'role ingest may not call GET /v1/metrics/{metric}' } },
  read_only: {
    status: 403,
    when: 'A ready-made dashboard: nobody changes or deletes it; POST a copy to make one of your own.',
    example: { message: 'outcomes is a ready-made dashboard: nobody changes or deletes it; POST its title, sharedWith and widgets to /v1/dashboards to make a copy of your own' },
  },
  privacy_budget_exhausted: {
    status: 403,
    when: 'The release would overspend the privacy budget; `details.remaining` is what is left (nothing was spent).',
    example: { message: 'the research budget has epsilon 0.2 and delta 0 left; this release asks for more', details: { remaining: { epsilon: 0.2, delta: 0 } } },
    details: z.object({ remaining: z.object({ epsilon: z.number(), delta: z.number() }) }),
  },
  not_found: { status: 404, when: 'No such resource.', example: { message: 'no alert 6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f' } },
  limit_reached: { status: 409, when: 'A store holds as many as it keeps (200 cohorts, 100 dashboards per owner): remove one first.', example: { message: 'at most 200 cohorts are kept' } },
  version_conflict: {
    status: 409,
    when: 'The dashboard was saved by someone else since the version sent; nothing was changed. Read it again and make the change on `details.currentVersion`.',
    example: { message: 'dashboard 9b2e4f1c-3a5d-4e6f-8a7b-1c2d3e4f5a6b was saved since version 3: it is at version 4, and nothing was changed; read it again, make the change on that version and send it with its version', details: { currentVersion: 4 } },
    details: z.object({ currentVersion: z.number().int().min(1) }),
  },
  alert_resolved: { status: 409, when: 'The alert is resolved: there is nothing left to acknowledge.', example: { message: 'alert 6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f is resolved and can no longer be acknowledged' } },
  payload_too_large: {
    status: 413,
    when: 'The body is over the limit: 1 MiB for events, 10 MiB (API Gateway\'s payload limit) for any other request.',
    example: { message: 'the body is over 1048576 bytes (1 MiB); send fewer events per request' },
  },
  ingest_backlog: {
    status: 429,
    when: 'Local runtime only: a stream consumer (the safety rules or the aggregator) is too far behind; nothing of the request was stored. Send the same batch again after `Retry-After` seconds.',
    example: { message: 'the detect consumer is 14 s behind; nothing of this request was stored: send it again after Retry-After' },
  },
  internal: { status: 500, when: 'A fault of the service; the message says nothing more, by design.', example: { message: 'internal error' } },
  unavailable: {
    status: 503,
    when: 'A store is out of reach; nothing was done. Sent with `Retry-After`.',
    example: { message: 'a store is unavailable; retry shortly' },
  },
  audit_unavailable: {
    status: 503,
    when: 'The audit trail could not record the call, so its answer is withheld.',
    example: { message: 'the audit trail could not record this call, so its answer is withheld; retry' },
  },
  consent_unavailable: {
    status: 503,
    when: 'The consent registry did not answer; nothing was stored.',
    example: { message: 'the consent registry did not answer, so no event was stored; send them again' },
  },
  keys_unavailable: {
    status: 503,
    when: 'The record key store did not answer; nothing was stored.',
    example: { message: 'the record key store did not answer, so no event was stored; send them again' },
  },
} as const satisfies Record<string, ErrorCase>;

export type ErrorCode = keyof typeof ERRORS;

/** A JSON answer or body: its schema and, when given, an example. */
export const json = (schema: z.ZodType, example?: unknown) => ({ 'application/json': { schema, ...(example !== undefined && { example }) } });

/** The header of answers no cache may keep: they name figures a reader was allowed to see, once. */
export const NO_STORE = z.object({ 'cache-control': z.literal('no-store') });

/** What any route that reads a JSON body may answer about it. */
export const BODY_ERRORS = ['malformed_json', 'body_not_object', 'invalid_request'] as const;

const retryAfter = z.object({
  'retry-after': z.string().optional().meta({ description: 'Seconds to wait before sending the request again; sent with `unavailable` and `ingest_backlog`.', example: '1' }),
});
const wwwAuthenticate = z.object({ 'www-authenticate': z.string().optional().meta({ description: 'The scheme to authenticate with (the local runtime sends it).', example: 'Bearer' }) });

const RESPONSE_HEADERS: Partial<Record<number, z.ZodObject>> = { 401: wwwAuthenticate, 429: retryAfter, 503: retryAfter };

// API Gateway answers these itself, before any function runs, in its own body.
const gatewayMessage = z.object({ message: z.string() }).meta({ id: 'GatewayError', description: "API Gateway's own answer (AWS only), not the envelope." });

/** The answers of one status: the codes as an enum, their details, an example of each. */
function errorResponse(status: number, codes: readonly ErrorCode[]): ResponseConfig {
  const cases = codes.map((code) => [code, ERRORS[code] as ErrorCase] as const);
  const details = [...new Set(cases.flatMap(([, error]) => (error.details ? [error.details] : [])))];
  const detailsSchema = details.length === 0 ? undefined : details.length === 1 ? details[0]! : z.union(details as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  const envelope = z.object({
    error: z.object({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      ...(detailsSchema && { details: detailsSchema.optional() }),
    }),
  });
  // API Gateway answers 401 and 429 itself too (its authorizer, its throttle).
  const schema = status === 401 || status === 429 ? z.union([envelope, gatewayMessage]) : envelope;
  const examples: Record<string, { summary: string; value: unknown }> = Object.fromEntries(
    cases.map(([code, error]) => [code, { summary: error.when, value: { error: { code, message: error.example.message, ...(error.example.details && { details: error.example.details }) } } }]),
  );
  if (status === 401) examples['gateway'] = { summary: "AWS: API Gateway's JWT authorizer refused the token before the function ran.", value: { message: 'Unauthorized' } };
  if (status === 429) examples['gateway'] = { summary: "AWS: over the API stage's throttle (rate and burst from the stack's settings).", value: { message: 'Too Many Requests' } };
  const headers = RESPONSE_HEADERS[status];
  return {
    description: cases.map(([code, error]) => `\`${code}\`: ${error.when}`).join(' '),
    ...(headers && { headers }),
    content: { 'application/json': { schema, examples } },
  };
}

const throttled: ResponseConfig = {
  description: "AWS only: over the API stage's throttle (rate and burst from the stack's settings); API Gateway's own body.",
  content: { 'application/json': { schema: gatewayMessage, example: { message: 'Too Many Requests' } } },
};

/** The caller's purpose of use, recorded in the audit entry of the call. */
const purposeHeader = z.object({
  'x-purpose': z
    .enum(AUDIT_PURPOSES)
    .optional()
    .meta({ param: { description: 'Why the data is read or changed (after HL7 PurposeOfUse), recorded in the audit entry; `unstated` when absent. A closed list: free text could carry anything into a trail that cannot be erased.', example: 'quality_improvement' } }),
});

export interface RouteDocument extends Pick<RouteConfig, 'operationId' | 'summary' | 'description' | 'tags' | 'request'> {
  readonly operationId: string;
  /** The answers on success. */
  readonly responses: Readonly<Record<number, ResponseConfig>>;
  /** The codes particular to the route; the shared ones (token, role, audit, path encoding, body size, stores) are added from its access. */
  readonly errors?: readonly ErrorCode[];
  /** Specification extensions of the operation, for what JSON Schema cannot say. */
  readonly extensions?: Readonly<Record<`x-${string}`, unknown>>;
}

/** Registers a route of ROUTES with what its access implies. Throws for a key ROUTES does not hold. */
export function registerRoute(registry: OpenAPIRegistry, routes: RouteTable, routeKey: string, route: RouteDocument, security: RouteConfig['security']): void {
  const access = routes[routeKey];
  if (!access) throw new Error(`${routeKey} is not a route of ROUTES`);
  const [method, path] = routeKey.split(' ') as [string, string];
  const { roles } = access;
  const isPublic = roles === 'public';
  const codes = new Set<ErrorCode>(route.errors);
  if (!isPublic) for (const code of ['unauthorized', 'forbidden', 'unavailable', 'internal'] as const) codes.add(code);
  if (access.audit !== undefined) for (const code of ['invalid_header', 'audit_unavailable'] as const) codes.add(code);
  if (path.includes('{')) codes.add('invalid_parameter');
  if (method === 'POST' || method === 'PUT') codes.add('payload_too_large');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of (Object.keys(ERRORS) as ErrorCode[]).filter((known) => codes.has(known))) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const errors = Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [status, errorResponse(status, list)]));
  const who = roles === 'public' ? 'Public: no token.' : `Roles: ${roles.join(', ')}.`;
  const audited = access.audit === undefined ? '' : ` A successful call appends a \`${access.audit}\` entry to the audit trail, with the caller's \`x-purpose\`.`;
  registry.registerPath({
    method: method.toLowerCase() as RouteConfig['method'],
    path,
    operationId: route.operationId,
    summary: route.summary,
    description: [route.description, `${who}${audited}`].filter(Boolean).join('\n\n'),
    tags: route.tags,
    'x-roles': roles,
    ...route.extensions,
    ...(isPublic ? {} : { security }),
    request: { ...route.request, ...(access.audit !== undefined && { headers: purposeHeader }) },
    responses: { ...route.responses, 429: throttled, ...errors },
  });
}
