import type { Context } from 'aws-lambda';
import { jsonLogger } from '../../../functions/adapters/log';
import { hs256Verifier, signHs256 } from '../../../functions/handlers/http/bearer';
import type { HttpEvent } from '../../../functions/handlers/http/middleware';
import { makePrivacyHandler } from '../../../functions/handlers/privacy';
import { makeQueryHandler } from '../../../functions/handlers/query';
import { RecordingAuditLog } from '../../support/audit';

/**
 * The handlers as AWS invokes them, with no local server in front: API Gateway passes path
 * parameters already decoded (a NUL arrives as a NUL), and a Lambda function URL passes the raw
 * path for the handler to decode. Either way, bad input is a 400 naming the parameter, never a
 * 500, and the use case behind it is never reached (its fakes reject).
 */
const SECRET = 'raw-events-test-secret';
const logger = jsonLogger('test', 'silent');
const clock = { now: () => new Date('2026-11-25T10:00:00Z') };
const unused = () => Promise.reject(new Error('bad input reached the use case'));

function event(method: string, rawPath: string, route: { routeKey: string; pathParameters: Record<string, string> } | undefined, body?: unknown): HttpEvent {
  return {
    version: '2.0',
    routeKey: route?.routeKey ?? '$default',
    rawPath,
    rawQueryString: '',
    headers: { authorization: `Bearer ${signHs256(SECRET, 'admin', 'someone', 600)}`, 'content-type': 'application/json' },
    ...(route && { pathParameters: route.pathParameters }),
    ...(body !== undefined && { body: JSON.stringify(body) }),
    isBase64Encoded: false,
    requestContext: { http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId: 'r', routeKey: route?.routeKey ?? '$default', stage: '$default', timeEpoch: 0 },
  } as unknown as HttpEvent;
}

const privacy = makePrivacyHandler({ recordConsent: unused, assignCaseload: unused, eraseUser: unused, audit: new RecordingAuditLog(), clock, logger, verifyBearer: hs256Verifier(SECRET) });
const query = makeQueryHandler({
  rollups: { readSeries: unused, readSeriesSketches: unused },
  researchExport: unused,
  reports: { request: unused, view: unused, list: unused, schedules: unused, replaceSchedules: unused, testSchedule: unused },
  budget: { ledger: { spend: unused, spent: unused }, total: { epsilon: 1, delta: 0 } },
    cohorts: { create: unused, list: unused, retention: unused, compare: unused },
    dashboards: { list: unused, get: unused, create: unused, save: unused, remove: unused },
  patterns: { latest: unused },
  audit: new RecordingAuditLog(),
  predictions: { saveVersion: unused, latest: unused, recordLive: unused, predictions: unused },
  interventions: { effectiveness: unused },
  k: 10,
  clock,
  logger,
  verifyBearer: hs256Verifier(SECRET),
});
const consent = { analytics: true, research: false, safety_monitoring: false };

describe('handlers given the raw event', () => {
  it.each([
    ['a NUL', 'a\u0000b'],
    ['an escape sequence', '\u001b[2J'],
    ['a C1 control', 'a\u0085b'],
    ['an unpaired surrogate', 'a\ud800b'],
  ])('answer 400 naming userId when API Gateway passes a user id with %s', async (_what, userId) => {
    const answer = await privacy(event('PUT', '/v1/consent/x', { routeKey: 'PUT /v1/consent/{userId}', pathParameters: { userId } }, consent), {} as Context);

    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body!).error).toMatchObject({ code: 'invalid_parameter', details: { parameter: 'userId' } });
  });

  it.each([
    ['/v1/users/%zz/data', 'DELETE', 'userId'],
    ['/v1/consent/%E0%A4%A', 'PUT', 'userId'],
  ])('answer 400 naming the parameter when a function URL passes the malformed path %s', async (path, method, parameter) => {
    const answer = await privacy(event(method, path, undefined, method === 'PUT' ? consent : undefined), {} as Context);

    expect([answer.statusCode, JSON.parse(answer.body!).error.details]).toEqual([400, { parameter }]);
  });

  it('answers 400 naming epsilon for 1e-16 before the research export reaches the ledger', async () => {
    const answer = await query(event('POST', '/v1/research/exports', undefined, { metric: 'mood.valence', from: '2026-11-24T00:00:00Z', to: '2026-11-25T00:00:00Z', epsilon: 1e-16 }), {} as Context);

    expect([answer.statusCode, JSON.parse(answer.body!).error.details]).toEqual([400, { field: 'epsilon' }]);
  });

  it('answers 400 naming from for the year 0 in a metric query', async () => {
    const request = { ...event('GET', '/v1/metrics/events', undefined), queryStringParameters: { from: '0000-01-01T00:00:00Z', to: '2026-11-25T00:00:00Z', interval: 'day' } };

    const answer = await query(request, {} as Context);

    expect([answer.statusCode, JSON.parse(answer.body!).error.details]).toEqual([400, { parameter: 'from' }]);
  });
});
