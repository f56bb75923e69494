import type { Context } from 'aws-lambda';
import { jsonLogger } from '../../../functions/adapters/log';
import { hs256Verifier, signHs256 } from '../../../functions/handlers/http/bearer';
import type { HttpEvent } from '../../../functions/handlers/http/middleware';
import { makeIngestHandler } from '../../../functions/handlers/ingest';
import type { Metrics } from '../../../functions/ports';
import { INGEST_METRIC_NAMES } from '../../../functions/ports/anomalies';

const SECRET = 'ingest-test-secret';

function post(body: unknown): HttpEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/events',
    rawQueryString: '',
    headers: { authorization: `Bearer ${signHs256(SECRET, 'ingest', 'app', 600)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/v1/events', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId: 'r', routeKey: '$default', stage: '$default', timeEpoch: 0 },
  } as unknown as HttpEvent;
}

describe('the ingest handler', () => {
  it('reports each request’s latency and its rejected events by code, which the series watch reads back', async () => {
    const counted: [string, number, Readonly<Record<string, string>> | undefined][] = [];
    const observed: [string, number][] = [];
    const metrics: Metrics = { count: (name, value, dimensions) => counted.push([name, value, dimensions]), observe: (name, value) => observed.push([name, value]) };
    const handler = makeIngestHandler({
      ingest: async () => ({ accepted: 1, rejected: [{ index: 1, code: 'invalid_event', message: 'type: unknown' }] }),
      logger: jsonLogger('test', 'silent'),
      metrics,
      verifyBearer: hs256Verifier(SECRET),
    });

    const response = await handler(post({ events: [{}, {}] }), {} as Context);

    expect(response.statusCode).toBe(202);
    expect(observed).toEqual([[INGEST_METRIC_NAMES.latency, expect.any(Number)]]);
    expect(observed[0]![1]).toBeGreaterThanOrEqual(0);
    expect(counted).toContainEqual([INGEST_METRIC_NAMES.rejected, 1, { code: 'invalid_event' }]);
  });
});
