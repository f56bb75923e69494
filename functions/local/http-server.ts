import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import type { HttpEvent, HttpResult } from '../handlers/http/middleware';
import { ROUTES, resolveRoute, type ResolvedRoute } from '../handlers/http/roles';
import { bearerToken } from '../handlers/http/bearer';
import type { TokenAuthority } from './tokens';

export type LambdaHttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** What API Gateway would refuse before a Lambda sees it (its payload limit is 10 MB). */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface HttpServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly handlers: Readonly<Record<string, LambdaHttpHandler>>;
  readonly tokens: TokenAuthority;
  readonly logger: Logger;
  /** Routes the runtime answers itself (`/health`, `/metrics`), outside the API. */
  readonly operations: Readonly<Record<string, () => Promise<{ status: number; contentType: string; body: string }>>>;
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        resolve(undefined);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  response.writeHead(status, headers);
  response.end(body);
}

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });

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
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const method = request.method ?? 'GET';
      const operation = method === 'GET' ? options.operations[url.pathname] : undefined;
      if (operation) {
        const result = await operation();
        return send(response, result.status, { 'content-type': result.contentType }, result.body);
      }
      const route = resolveRoute(method, url.pathname);
      if (!route) return send(response, 404, { 'content-type': 'application/json' }, errorBody('not_found', `no route ${method} ${url.pathname}`));
      const isPublic = ROUTES[route.routeKey].roles === 'public';
      const bearer = bearerToken(request.headers.authorization);
      const claims = bearer ? options.tokens.verify(bearer) : undefined;
      if (!isPublic && !claims) {
        return send(response, 401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, errorBody('unauthorized', 'a valid bearer token is required'));
      }
      const body = await readBody(request);
      if (body === undefined) return send(response, 413, { 'content-type': 'application/json' }, errorBody('payload_too_large', 'the request is over 10 MB'));
      const handler = options.handlers[ROUTES[route.routeKey].handler];
      if (!handler) return send(response, 501, { 'content-type': 'application/json' }, errorBody('not_implemented', `no handler for ${route.routeKey}`));
      const result = await handler(toLambdaEvent(request, url, route, body, claims), { awsRequestId: 'local' } as Context);
      send(response, result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>, typeof result.body === 'string' ? result.body : '');
    })().catch((error: unknown) => {
      options.logger.error('local http server error', { error: error instanceof Error ? error.name : 'unknown' });
      if (!response.headersSent) send(response, 500, { 'content-type': 'application/json' }, errorBody('internal', 'internal error'));
    });
  });
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
