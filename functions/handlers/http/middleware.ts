import type middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Logger } from '../../adapters/log';
import { HttpError } from './errors';
import { bearerToken, type BearerVerifier } from './bearer';
import { ROUTES, authorize, resolveRoute } from './roles';

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
}

/** What API Gateway would have done before the handler: name the route, verify the token. */
function asApiGatewayWould(event: HttpEvent, verifyBearer: BearerVerifier | undefined): void {
  if (!(event.routeKey in ROUTES)) {
    const route = resolveRoute(event.requestContext.http.method, event.rawPath);
    if (route) {
      event.routeKey = route.routeKey;
      event.pathParameters = route.pathParameters;
    }
  }
  if (!verifyBearer || event.requestContext.authorizer?.jwt) return;
  const token = bearerToken(event.headers?.['authorization']);
  const claims = token ? verifyBearer(token) : undefined;
  if (claims) event.requestContext.authorizer = { principalId: claims['sub'] ?? '', integrationLatency: 0, jwt: { claims, scopes: [] } };
}

/**
 * The cross-cutting part of every HTTP handler: the route's role check before, and after an
 * error the API's error envelope. Bad input maps to its 4xx; anything unexpected is logged and
 * answered 500 without its message, which could carry data.
 */
export function httpApi(options: HttpApiOptions): middy.MiddlewareObj<HttpEvent, HttpResult> {
  if (!options.logger) throw new TypeError('httpApi: option logger is required');
  return {
    before: function checkRole(request) {
      asApiGatewayWould(request.event, options.verifyBearer);
      authorize(request.event);
    },
    onError: function answerError(request) {
      const error = request.error;
      if (error instanceof HttpError) {
        request.response = json(error.status, {
          error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) },
        });
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
