import type { Context } from 'aws-lambda';
import { jsonLogger } from '../../../functions/adapters/log';
import { hs256Verifier, signHs256 } from '../../../functions/handlers/http/bearer';
import type { HttpEvent } from '../../../functions/handlers/http/middleware';
import { RecordingAuditLog } from '../../support/audit';
import { makeQueryHandler } from '../../../functions/handlers/query';
import type { RollupReader } from '../../../functions/ports/rollups';

const SECRET = 'localstack-development-only-secret';
const logger = jsonLogger('test', 'silent');
const emptyStore: RollupReader = {
  readSeries: async () => [],
  readSeriesSketches: async () => [],
};

/** A request as a Lambda function URL delivers it: route key `$default`, no authorizer. */
function functionUrlEvent(path: string, query: Record<string, string>, authorization?: string): HttpEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: authorization ? { authorization } : {},
    queryStringParameters: query,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'url-id',
      domainName: 'url-id.lambda-url.us-east-1.localhost.localstack.cloud',
      domainPrefix: 'url-id',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '25/Nov/2026:10:00:00 +0000',
      timeEpoch: 0,
    },
  } as unknown as HttpEvent;
}

const query = { from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z', interval: 'hour' };

describe('the query handler behind a Lambda function URL (the LocalStack variant)', () => {
  const audit = new RecordingAuditLog();
  const unused = () => Promise.reject(new Error('not used by these tests'));
  const handler = makeQueryHandler({
    rollups: emptyStore,
    researchExport: unused,
    reports: { request: unused, view: unused, list: unused, schedules: unused, replaceSchedules: unused, testSchedule: unused },
    budget: { ledger: { spend: unused, spent: unused }, total: { epsilon: 1, delta: 0 } },
    cohorts: { create: unused, list: unused, retention: unused, compare: unused },
    dashboards: { list: unused, get: unused, create: unused, save: unused, remove: unused },
    patterns: { latest: unused },
    audit, predictions: { saveVersion: unused, latest: unused, recordLive: unused, predictions: unused }, interventions: { effectiveness: unused }, k: 10, clock: { now: () => new Date('2026-11-25T10:00:00Z') }, logger, verifyBearer: hs256Verifier(SECRET) });
  const invoke = (event: HttpEvent) => handler(event, {} as Context);

  it('routes by path and answers a request whose token it verified itself', async () => {
    const token = signHs256(SECRET, 'analyst', 'someone', 600);

    const response = await invoke(functionUrlEvent('/v1/metrics/events', query, `Bearer ${token}`));

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body as string)).toMatchObject({ metric: 'events', series: [], suppressed: [] });
    expect(audit.records.at(-1)).toEqual({
      at: '2026-11-25T10:00:00.000Z',
      actor: 'someone',
      role: 'analyst',
      action: 'read',
      resource: 'GET /v1/metrics/{metric}',
      purpose: 'unstated',
      details: { ...query, metric: 'events', timeZone: 'UTC', groupBy: [] },
    });
  });

  it('withholds the answer with 503 audit_unavailable when the read cannot be audited', async () => {
    const token = signHs256(SECRET, 'analyst', 'someone', 600);
    audit.failing = true;
    try {
      const response = await invoke(functionUrlEvent('/v1/metrics/events', query, `Bearer ${token}`));

      expect(response.statusCode).toBe(503);
      expect(JSON.parse(response.body as string)).toEqual({ error: { code: 'audit_unavailable', message: expect.any(String) } });
    } finally {
      audit.failing = false;
    }
  });

  it.each([
    ['no token', undefined, 401, { reason: 'missing' }],
    ['a token signed with another secret', `Bearer ${signHs256('some-other-secret-of-16+', 'analyst', 'x', 600)}`, 401, { reason: 'bad_signature' }],
    ['an expired token', `Bearer ${signHs256(SECRET, 'analyst', 'x', -60)}`, 401, { reason: 'expired' }],
    ['a role the route refuses', `Bearer ${signHs256(SECRET, 'ingest', 'x', 600)}`, 403, undefined],
  ])('refuses %s', async (_case, authorization, status, details) => {
    const response = await invoke(functionUrlEvent('/v1/metrics/events', query, authorization));

    expect([response.statusCode, JSON.parse(response.body as string).error.details]).toEqual([status, details]);
  });

  it('answers 404 for a path no route has', async () => {
    const response = await invoke(functionUrlEvent('/v1/nothing-here', {}, `Bearer ${signHs256(SECRET, 'admin', 'x', 600)}`));

    expect(response.statusCode).toBe(404);
  });
});
