import type { Context } from 'aws-lambda';
import { jsonLogger } from '../../../functions/adapters/log';
import { hs256Verifier, signHs256 } from '../../../functions/handlers/http/bearer';
import type { HttpEvent } from '../../../functions/handlers/http/middleware';
import { makeIngestHandler } from '../../../functions/handlers/ingest';
import type { EventStreamWriter, Metrics } from '../../../functions/ports';
import { makeIngest } from '../../../functions/use-cases/ingest';
import { pseudonymisers } from '../../../functions/handlers/ingest';
import { makeEvent } from '../../support/events';
import { INGEST_METRIC_NAMES } from '../../../functions/ports/anomalies';
import { USAGE_METRIC_NAMES } from '../../../functions/domain/operations/usage-metrics';
import { MemoryRecordKeys } from '../../support/record-keys';

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

  it("counts the rejected events as the platform's unsuccessful interactions, by the type they claimed", async () => {
    const counted: [string, number, Readonly<Record<string, string>> | undefined][] = [];
    const handler = makeIngestHandler({
      ingest: async () => ({
        accepted: 1,
        rejected: [
          { index: 1, code: 'consent_missing', message: 'userId: no consent' },
          { index: 2, code: 'invalid_event', message: 'type: unknown' },
        ],
      }),
      logger: jsonLogger('test', 'silent'),
      metrics: { count: (name, value, dimensions) => counted.push([name, value, dimensions]), observe: () => undefined },
      verifyBearer: hs256Verifier(SECRET),
    });

    await handler(post({ events: [makeEvent(), makeEvent({}, 'crisis.signal'), { ...makeEvent(), type: 'user-42@example.org' }] }), {} as Context);

    const interactions = counted.filter(([name]) => name === USAGE_METRIC_NAMES.interactions);
    expect(interactions).toEqual([
      [USAGE_METRIC_NAMES.interactions, 1, { interaction_type: 'crisis.signal', success: 'false' }],
      [USAGE_METRIC_NAMES.interactions, 1, { interaction_type: 'invalid', success: 'false' }],
    ]);
  });

  const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), { code: 'ECONNREFUSED' });
  const consenting = { getMany: async (subjects: readonly string[]) => new Map(subjects.map((subject) => [subject, { subject, scopes: { analytics: true, research: false, safety_monitoring: false }, updatedAt: new Date().toISOString() }])) };
  const failingKeys = Object.assign(new MemoryRecordKeys(), { keysFor: () => Promise.reject(unreachable) });

  it.each([
    ['consent_unavailable', 'the consent registry', { consent: { getMany: () => Promise.reject(unreachable) }, keys: new MemoryRecordKeys() }],
    ['keys_unavailable', 'the record key store', { consent: consenting, keys: failingKeys }],
  ])('answers 503 %s and stores nothing when %s does not answer', async (code, _store, stores) => {
    // Prepare: the store's connection refused, as while the emulator restarts
    const put: unknown[] = [];
    const stream: EventStreamWriter = { putRecords: async (records) => (put.push(...records), records.map(() => ({ ok: true, shardId: 's', sequenceNumber: '1' }))) };
    const handler = makeIngestHandler({
      ingest: makeIngest({
        stream,
        ...stores,
        pseudonymise: pseudonymisers(new Uint8Array(32)),
        clock: { now: () => new Date() },
        sleep: async () => undefined,
      }),
      logger: jsonLogger('test', 'silent'),
      metrics: { count: () => undefined, observe: () => undefined },
      verifyBearer: hs256Verifier(SECRET),
    });

    // Act
    const response = await handler(post({ events: [makeEvent()] }), {} as Context);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body as string)).toMatchObject({ error: { code } });
    expect(put).toEqual([]);
  });
});
