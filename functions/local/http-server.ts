import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { Context } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import type { HttpEvent, HttpResult } from '../handlers/http/middleware';
import { ROUTES, resolveRoute, roleFromClaims, type ResolvedRoute, type Role, type RouteKey } from '../handlers/http/roles';
import { bearerToken, unauthorized } from '../handlers/http/bearer';
import { HttpError } from '../handlers/http/errors';
import { MAX_BODY_BYTES } from '../domain/events/schema';
import type { TokenAuthority } from './tokens';

export type LambdaHttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** What API Gateway would refuse before a Lambda sees it (its payload limit is 10 MB). */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/**
 * Routes with a tighter limit than API Gateway's, refused here before they are buffered (in AWS
 * the handler refuses them, after API Gateway buffered up to its 10 MB).
 */
const ROUTE_BODY_LIMITS: Partial<Record<RouteKey, number>> = { 'POST /v1/events': MAX_BODY_BYTES };
const bodyLimitOf = (route: RouteKey) => ROUTE_BODY_LIMITS[route] ?? MAX_REQUEST_BYTES;

export interface HttpServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly handlers: Readonly<Record<string, LambdaHttpHandler>>;
  readonly tokens: TokenAuthority;
  readonly logger: Logger;
  /** Routes the runtime answers itself (`/health`, `/metrics`, `/docs`), outside the API. */
  readonly operations: Readonly<Record<string, () => Promise<OperationAnswer>>>;
  /**
   * Uploads the runtime takes itself (`POST /imports`, `POST /model-runs`), outside the API, for an admin token only:
   * the body is handed over as it arrives, so the operation reads it no faster than it works.
   */
  readonly uploads?: Readonly<Record<string, (body: AsyncIterable<Uint8Array>) => Promise<OperationAnswer>>>;
  /** How long an API request's body may take to arrive (default BODY_DEADLINE_MS); uploads have no such bound. */
  readonly bodyDeadlineMs?: number;
  /**
   * The web app: GETs of no API route nor operation (its files, and its own routes such as
   * `/alerts/{id}`), answered without a token; undefined leaves the path to the API's 404.
   */
  readonly site?: (url: URL) => Promise<OperationAnswer | undefined>;
  /**
   * Long-lived GETs outside the API Gateway routes (server-sent events), for a verified token of
   * one of `roles`: `open` owns the response until the client goes.
   */
  readonly streams?: Readonly<Record<string, { readonly roles: readonly Role[]; readonly open: (response: ServerResponse) => void }>>;
  /** GETs under `prefix` the runtime answers without a token: signed download links carry their own authority. */
  readonly downloads?: { readonly prefix: string; readonly answer: (url: URL) => Promise<OperationAnswer> };
}

/**
 * Node's own request timeout (300 s for a whole request, on every route) cut imports the runtime
 * reads no faster than it stores them: a 270,000-event history on a busy machine was refused
 * with 408 after five minutes. The server runs without it; an API body gets the same bound here,
 * and an upload is cut only when it stops sending for UPLOAD_IDLE_MS (headers keep node's
 * headersTimeout either way).
 */
const BODY_DEADLINE_MS = 300_000;
const UPLOAD_IDLE_MS = 300_000;
const REQUEST_TIMEOUT = { code: 'request_timeout', message: 'the request was not received in time' } as const;

/** What the runtime answers on a route of its own; `headers` adds to the content type. */
export interface OperationAnswer {
  readonly status: number;
  readonly contentType: string;
  /** A stream is sent as it is written (a long operation's progress), chunked. */
  readonly body: string | Buffer | Readable;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The body, or undefined when it is over `limit` bytes. An oversize body is read to its end and
 * dropped chunk by chunk (memory stays at `limit`), not cut off: destroying the socket while the
 * client still sends makes the kernel answer its next bytes with a reset, and the client never
 * sees the 413. Chunked bodies, which declare no length, are counted the same way.
 */
function readBody(request: IncomingMessage, limit: number, deadlineMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] | undefined = [];
    let size = 0;
    const deadline = setTimeout(() => {
      // As node's own timeout did: answered, then the connection closed behind the answer.
      reject(new HttpError(408, REQUEST_TIMEOUT.code, REQUEST_TIMEOUT.message));
      setTimeout(() => request.socket.destroy(), 5_000).unref();
    }, deadlineMs);
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) chunks = undefined;
      else chunks?.push(chunk);
    });
    request.on('end', () => {
      clearTimeout(deadline);
      resolve(chunks && Buffer.concat(chunks));
    });
    request.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
  });
}

/** The request target as a URL; `//host/x` is a path here, not another host, and a target that is no path at all is a 400. */
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(`http://localhost${target?.startsWith('/') ? target : `/${target ?? ''}`}`);
  } catch {
    throw new HttpError(400, 'malformed_request', 'the request target is not a valid path');
  }
}

const megabytes = (bytes: number) => `${Number((bytes / 1024 / 1024).toFixed(1))} MiB`;

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer | Readable): void {
  response.writeHead(status, headers);
  if (body instanceof Readable) body.pipe(response);
  else response.end(body);
}

const errorBody = (code: string, message: string, details?: unknown) => JSON.stringify({ error: { code, message, ...(details === undefined ? {} : { details }) } });

/**
 * What node's HTTP parser refused (headers over its limit, a request that is not HTTP/1.1)
 * answered in the API's envelope instead of node's bare status line. The rest of what the client
 * sends is read and dropped until it closes, for the reason readBody gives.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
  const [status, body] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, errorBody('headers_too_large', 'the request line and headers are over 16 KiB; send long parameters in a body')]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, errorBody(REQUEST_TIMEOUT.code, REQUEST_TIMEOUT.message)]
        : [400, errorBody('malformed_request', 'the request is not valid HTTP/1.1')];
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  socket.resume();
  setTimeout(() => socket.destroy(), 5_000).unref();
}

/** The API Gateway v2 event a route would receive, with the claims its JWT authorizer would pass. */
function toLambdaEvent(request: IncomingMessage, url: URL, route: ResolvedRoute, body: Buffer, claims: Record<string, string> | undefined): HttpEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) queryStringParameters[name] = queryStringParameters[name] ? `${queryStringParameters[name]},${value}` : value;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters,
    pathParameters: route.pathParameters,
    body: body.length > 0 ? body.toString('utf8') : undefined,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: { method: request.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: `${now.getTime()}-${Math.random().toString(36).slice(2)}`,
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      authorizer: { principalId: claims?.['sub'] ?? '', integrationLatency: 0, jwt: { claims: claims ?? {}, scopes: [] } },
    },
  };
}

/** The local HTTP front: routes like the HTTP API, verifies tokens like its JWT authorizer, invokes the same handlers. */
export async function startHttpServer(options: HttpServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer({ requestTimeout: 0 }, (request, response) => {
    void (async () => {
      const url = requestUrl(request.url);
      const method = request.method ?? 'GET';
      const operation = method === 'GET' ? options.operations[url.pathname] : undefined;
      const download = method === 'GET' && options.downloads && url.pathname.startsWith(options.downloads.prefix) ? options.downloads : undefined;
      if (operation || download) {
        const result = operation ? await operation() : await download!.answer(url);
        return send(response, result.status, { ...result.headers, 'content-type': result.contentType }, result.body);
      }
      const bearer = bearerToken(request.headers.authorization);
      const verdict = bearer ? options.tokens.verify(bearer) : { rejected: 'missing' as const };
      const claims = 'claims' in verdict ? verdict.claims : undefined;
      const refuseUnverified = () => {
        if (!('rejected' in verdict)) return false;
        const { code, message, details } = unauthorized(verdict.rejected);
        // Read and dropped, for the reason readBody gives: the client is still sending.
        request.resume();
        send(response, 401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, errorBody(code, message, details));
        return true;
      };
      const upload = method === 'POST' ? options.uploads?.[url.pathname] : undefined;
      if (upload) {
        if (refuseUnverified()) return;
        if (roleFromClaims(claims) !== 'admin') {
          request.resume();
          return send(response, 403, { 'content-type': 'application/json' }, errorBody('forbidden', `only an admin token may call POST ${url.pathname}`));
        }
        request.setTimeout(UPLOAD_IDLE_MS, () => request.destroy());
        const result = await upload(request);
        return send(response, result.status, { ...result.headers, 'content-type': result.contentType }, result.body);
      }
      const stream = method === 'GET' ? options.streams?.[url.pathname] : undefined;
      if (stream) {
        if (refuseUnverified()) return;
        const role = roleFromClaims(claims);
        if (!role || !stream.roles.includes(role)) return send(response, 403, { 'content-type': 'application/json' }, errorBody('forbidden', `role ${role ?? 'none'} may not call GET ${url.pathname}`));
        return stream.open(response);
      }
      const route = resolveRoute(method, url.pathname);
      const page = !route && method === 'GET' ? await options.site?.(url) : undefined;
      if (page) return send(response, page.status, { ...page.headers, 'content-type': page.contentType }, page.body);
      if (!route) return send(response, 404, { 'content-type': 'application/json' }, errorBody('not_found', `no route ${method} ${url.pathname}`));
      if (ROUTES[route.routeKey].roles !== 'public' && refuseUnverified()) return;
      const limit = bodyLimitOf(route.routeKey);
      const body = await readBody(request, limit, options.bodyDeadlineMs ?? BODY_DEADLINE_MS);
      if (body === undefined) return send(response, 413, { 'content-type': 'application/json' }, errorBody('payload_too_large', `the body is over ${megabytes(limit)} (${limit} bytes)`));
      const handler = options.handlers[ROUTES[route.routeKey].handler];
      if (!handler) return send(response, 501, { 'content-type': 'application/json' }, errorBody('not_implemented', `no handler for ${route.routeKey}`));
      const result = await handler(toLambdaEvent(request, url, route, body, claims), { awsRequestId: 'local' } as Context);
      send(response, result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>, typeof result.body === 'string' ? result.body : '');
    })().catch((error: unknown) => {
      if (error instanceof HttpError) return send(response, error.status, { 'content-type': 'application/json' }, errorBody(error.code, error.message, error.details));
      options.logger.error('local http server error', { error: error instanceof Error ? error.name : 'unknown' });
      if (!response.headersSent) send(response, 500, { 'content-type': 'application/json' }, errorBody('internal', 'internal error'));
    });
  });
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
