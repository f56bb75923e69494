import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/*
 * GET /v1/live is no route of the HTTP API, which buffers answers: the local runtime serves it
 * itself and, in AWS, a streaming function behind the web app's CloudFront distribution
 * (functions/use-cases/live-events.ts for both). Its numbers (every 2 s, 15 s, 10 minutes) are
 * checked against the code's by test/unit/api/openapi.test.ts.
 */

const example = [
  'retry: 2000',
  '',
  'event: counters',
  'data: {"minute":"2026-12-06T10:41","events_per_min":1843,"active_users":212,"avg_ingest_ms":140,"updated_at":"2026-12-06T10:41:37.120Z"}',
  '',
  'event: alert',
  'data: {"kind":"firing","severity":"critical","alertIds":["6f1c2a9e-3b1d-4c55-9a0e-2f7d8c4b1a90"]}',
  '',
  ': keep-alive',
  '',
  '',
].join('\n');

/** Registers the live view's stream of server-sent events. */
export function registerLiveStream(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/v1/live',
    operationId: 'liveEvents',
    summary: 'Live counters and alert notices, as server-sent events (the web app\'s overview)',
    description: [
      'A `text/event-stream` that stays open. `counters`: the current minute\'s events, active people (left out while fewer than k: shown as suppressed, never 0), mean ingest lag and when they were counted, the stored ones first and then the newest at most every 2 s. ' +
        '`alert`: alerts changed (`kind`, `severity`, `alertIds`), ids only: the viewer reads the alerts its role may see through `GET /v1/alerts`. A comment line every 15 s keeps proxies from closing a quiet stream; `retry` asks a client to reconnect after 2 s.',
      'For the roles admin, analyst and clinician. In the local runtime, the bearer token as on any route. In AWS the stream is served through the web app\'s CloudFront distribution (not the API\'s domain), whose signing takes `Authorization`: send the token in `x-bearer-token` there. A stream ends after 10 minutes in AWS (Lambda is not told a client went); the client reconnects.',
    ].join('\n\n'),
    tags: ['Live view'],
    security: [{ bearerAuth: [] }],
    request: { headers: z.object({ 'x-bearer-token': z.string().optional().meta({ description: 'The bearer token, where `Authorization` does not reach the stream (AWS).' }) }) },
    responses: {
      200: { description: 'The stream: events until the client goes (or, in AWS, 10 minutes pass).', content: { 'text/event-stream': { schema: z.string(), example } } },
      401: { description: 'No valid bearer token.' },
      403: { description: 'A role that may not watch (an ingest token).' },
    },
  });
}
