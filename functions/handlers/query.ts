import middy from '@middy/core';
import { jsonLogger, logLevelFromEnv, type Logger } from '../adapters/log';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { parseEnv } from '../config/env';
import { connectDatabase, functionUrlVerifier, queryEnv } from '../config/lambda';
import { openApiDocument } from '../domain/api/openapi';
import { QueryError } from '../domain/rollups/metric-query';
import type { Clock } from '../ports';
import type { RollupReader } from '../ports/rollups';
import type { AuditLog } from '../ports/audit';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import { queryMetric } from '../use-cases/query-metric';
import { HttpError, badRequest } from './http/errors';
import { lazyHandler } from './lazy';
import type { BearerVerifier } from './http/bearer';
import { httpApi, json, type HttpEvent, type HttpResult } from './http/middleware';
import type { RouteKey } from './http/roles';

export interface QueryHandlerDeps {
  readonly rollups: RollupReader;
  readonly audit: AuditLog;
  readonly k: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly verifyBearer?: BearerVerifier;
}

const METRIC_PARAMETERS = new Set(['from', 'to', 'interval', 'groupBy']);

async function getMetric(deps: QueryHandlerDeps, event: HttpEvent): Promise<HttpResult> {
  const query = event.queryStringParameters ?? {};
  const unknown = Object.keys(query).find((name) => !METRIC_PARAMETERS.has(name));
  if (unknown !== undefined) throw badRequest('invalid_parameter', `${unknown}: unknown parameter; allowed: ${[...METRIC_PARAMETERS].join(', ')}`, { parameter: unknown });
  try {
    const answer = await queryMetric(deps.rollups, { metric: event.pathParameters?.['metric'], ...query }, { k: deps.k });
    return json(200, answer, { 'cache-control': 'no-store' });
  } catch (error) {
    if (error instanceof QueryError) throw badRequest('invalid_parameter', `${error.parameter}: ${error.message}`, { parameter: error.parameter });
    throw error;
  }
}

/** The read side of the API: GET /v1/metrics/{metric} and GET /openapi.json. */
export function makeQueryHandler(deps: QueryHandlerDeps) {
  const document = JSON.stringify(openApiDocument());
  const routes: Partial<Record<RouteKey, (event: HttpEvent) => Promise<HttpResult>>> = {
    'GET /v1/metrics/{metric}': (event) => getMetric(deps, event),
    'GET /openapi.json': async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: document }),
  };
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    const route = routes[event.routeKey as RouteKey];
    if (!route) throw new HttpError(404, 'not_found', `no route ${event.routeKey}`);
    return route(event);
  }).use(httpApi({ logger: deps.logger, verifyBearer: deps.verifyBearer, audit: { log: deps.audit, clock: deps.clock } }));
}

export const handler = lazyHandler(async () => {
  const config = parseEnv(queryEnv);
  const db = await connectDatabase();
  return makeQueryHandler({
    rollups: new SqlRollupStore(db),
    audit: new SqlAuditLog(db),
    k: config.K_ANONYMITY,
    clock: { now: () => new Date() },
    logger: jsonLogger('query', logLevelFromEnv()),
    verifyBearer: functionUrlVerifier(),
  });
});
