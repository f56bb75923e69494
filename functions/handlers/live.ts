import type { Writable } from 'node:stream';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { redisClient } from '../adapters/redis/redis-client';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { parseEnv } from '../config/env';
import { liveEnv, liveTokenVerifier } from '../config/lambda';
import { LIVE_HEADERS, streamLiveEvents, type LiveSource } from '../use-cases/live-events';
import { unauthorized, type BearerVerifier } from './http/bearer';
import { LIVE_ROLES, roleFromClaims } from './http/roles';

/**
 * How long one stream lasts: ended well inside the function's 15-minute timeout (a stream cut by
 * the timeout would be an error), and the web app reconnects. Lambda does not tell a function that
 * its client went, so this is also the longest a stream outlives a closed tab.
 */
export const LIVE_STREAM_MS = 10 * 60_000;

/**
 * Where the bearer token travels. CloudFront's origin access control signs each request to the
 * function URL with SigV4 in `Authorization`, overwriting the viewer's, so the web app sends its
 * token in this header too.
 */
export const BEARER_HEADER = 'x-bearer-token';

export interface LiveHandlerDeps {
  readonly source: LiveSource;
  readonly verifyBearer: BearerVerifier;
  readonly k: number;
  readonly logger: Logger;
  readonly streamForMs?: number;
}

interface Refusal {
  readonly statusCode: number;
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

async function refusalOf(event: LambdaFunctionURLEvent, verifyBearer: BearerVerifier): Promise<Refusal | undefined> {
  const method = event.requestContext.http.method;
  if (method !== 'GET') return { statusCode: 405, error: { code: 'method_not_allowed', message: `${method} /v1/live: only GET is served` } };
  const token = event.headers[BEARER_HEADER];
  if (!token) return { statusCode: 401, error: { ...unauthorized('missing'), message: `a bearer token is required: send ${BEARER_HEADER}: <token>` } };
  const verdict = await verifyBearer(token);
  if ('rejected' in verdict) return { statusCode: 401, error: unauthorized(verdict.rejected) };
  const role = roleFromClaims(verdict.claims);
  if (!role || !LIVE_ROLES.includes(role)) return { statusCode: 403, error: { code: 'forbidden', message: `role ${role ?? 'none'} may not call GET /v1/live` } };
  return undefined;
}

/**
 * GET /v1/live in AWS, behind a function URL in RESPONSE_STREAM mode: the token checked (no API
 * Gateway authorizer is in front), then the live view's events as the local runtime sends them
 * (use-cases/live-events.ts) until the client goes or LIVE_STREAM_MS pass.
 */
export function makeLiveHandler(deps: LiveHandlerDeps) {
  return async (event: LambdaFunctionURLEvent, responseStream: Writable): Promise<void> => {
    let refusal: Refusal | undefined;
    try {
      refusal = await refusalOf(event, deps.verifyBearer);
    } catch (error) {
      // The mirrored keys could not be read: the client retries, as after any dropped stream.
      deps.logger.error('live token not verified', { error: error instanceof Error ? error.name : 'unknown' });
      refusal = { statusCode: 503, error: { code: 'unavailable', message: 'tokens cannot be verified right now; retry shortly' } };
    }
    if (refusal) {
      const answer = awslambda.HttpResponseStream.from(responseStream, { statusCode: refusal.statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
      // write, then end: the runtime sends the status line on the first write, which end(chunk) skips.
      answer.write(JSON.stringify({ error: refusal.error }));
      answer.end();
      return;
    }
    const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { ...LIVE_HEADERS } });
    await streamLiveEvents(deps.source, stream, { k: deps.k, logger: deps.logger, endAfterMs: deps.streamForMs ?? LIVE_STREAM_MS });
  };
}

const logger = lambdaLogger('live');
let serve: ReturnType<typeof makeLiveHandler> | undefined;

/** Wired once per execution environment; its Redis connections serve one stream after another. */
function wired(): ReturnType<typeof makeLiveHandler> {
  if (serve) return serve;
  const config = parseEnv(liveEnv);
  return (serve = makeLiveHandler({
    source: new RedisLiveStore(redisClient(config.REDIS_URL, { logger })),
    verifyBearer: liveTokenVerifier(config),
    k: config.K_ANONYMITY,
    logger,
  }));
}

export const handler = awslambda.streamifyResponse(async (event: LambdaFunctionURLEvent, responseStream, context) => {
  // A streamed invocation ends, by default, only once the event loop is empty, which the Redis
  // connections kept for the next stream never leave it: each would run to the timeout.
  context.callbackWaitsForEmptyEventLoop = false;
  await logger.around((request: LambdaFunctionURLEvent) => wired()(request, responseStream))(event, context);
});
