import middy from '@middy/core';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { dynamoDbClient, kinesisClient } from '../adapters/aws/clients';
import { DynamoConsentRegistry } from '../adapters/aws/dynamo-consent-registry';
import { emfMetrics } from '../adapters/aws/emf-metrics';
import { KinesisEventStream } from '../adapters/aws/kinesis-stream';
import { CachedConsentRegistry } from '../adapters/cached-consent-registry';
import { parseEnv } from '../config/env';
import { METRICS_NAMESPACE, functionUrlVerifier, ingestEnv, loadPepper, recordKeyStore } from '../config/lambda';
import { CachedRecordKeys } from '../adapters/cached-record-keys';
import { MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST } from '../domain/events/schema';
import { makePseudonymiser } from '../domain/privacy/pseudonymise';
import { usageOfRejected } from '../domain/operations/usage-metrics';
import type { Metrics } from '../ports';
import { INGEST_METRIC_NAMES } from '../ports/anomalies';
import { ConsentUnavailableError } from '../ports/consent';
import { RecordKeysUnavailableError } from '../ports/record-keys';
import { makeIngest, type Ingest, type IngestResult } from '../use-cases/ingest';
import { HttpError, badRequest } from './http/errors';
import { lazyHandler } from './lazy';
import type { BearerVerifier } from './http/bearer';
import { bodyText, httpApi, json, parseJson, type HttpEvent, type HttpResult } from './http/middleware';

export interface IngestHandlerDeps {
  readonly ingest: Ingest;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly verifyBearer?: BearerVerifier;
}

/**
 * Accepted events, and rejected ones by code: `consent_missing` counts events refused for want of
 * consent. The rejected ones are also the platform's unsuccessful interactions, by the type they
 * claimed: they never reach the stream, so only ingest sees them (the aggregate consumer counts the
 * successful ones, once each, after its dedupe).
 */
function countOutcome(metrics: Metrics, events: readonly unknown[], result: IngestResult): void {
  if (result.accepted > 0) metrics.count('events_accepted_total', result.accepted);
  const byCode = new Map<string, number>();
  for (const rejection of result.rejected) byCode.set(rejection.code, (byCode.get(rejection.code) ?? 0) + 1);
  for (const [code, count] of byCode) metrics.count(INGEST_METRIC_NAMES.rejected, count, { code });
  for (const { name, value, dimensions } of usageOfRejected(events, result.rejected)) metrics.count(name, value, dimensions);
}

function parseEventsBody(event: HttpEvent): unknown[] {
  const text = bodyText(event);
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new HttpError(413, 'payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes (1 MiB); send fewer events per request`);
  }
  // The text already decoded for the size check, not decoded again.
  const body = parseJson(text);
  const events = typeof body === 'object' && body !== null ? (body as { events?: unknown }).events : undefined;
  if (!Array.isArray(events)) throw badRequest('invalid_request', 'events: must be an array of events', { field: 'events' });
  if (events.length < 1 || events.length > MAX_EVENTS_PER_REQUEST) {
    throw badRequest('invalid_request', `events: must hold 1 to ${MAX_EVENTS_PER_REQUEST} events, got ${events.length}`, { field: 'events' });
  }
  return events;
}

/** POST /v1/events: 202 with the count accepted and each rejected event's index, code and message. */
export function makeIngestHandler(deps: IngestHandlerDeps) {
  return middy(async (event: HttpEvent): Promise<HttpResult> => {
    const events = parseEventsBody(event);
    const started = performance.now();
    const result = await deps.ingest(events).catch((error: unknown) => {
      // Not the client's fault and not a crash: the client sends the events again later.
      if (error instanceof ConsentUnavailableError) throw new HttpError(503, 'consent_unavailable', 'the consent registry did not answer, so no event was stored; send them again');
      if (error instanceof RecordKeysUnavailableError) throw new HttpError(503, 'keys_unavailable', 'the record key store did not answer, so no event was stored; send them again');
      throw error;
    });
    // The use case's time (consent, pseudonymisation, the stream's put): what the series watch judges.
    deps.metrics.observe(INGEST_METRIC_NAMES.latency, performance.now() - started);
    deps.logger.info('ingested', { accepted: result.accepted, rejected: result.rejected.length });
    countOutcome(deps.metrics, events, result);
    return json(202, result);
  }).use(httpApi({ logger: deps.logger, verifyBearer: deps.verifyBearer }));
}

export const pseudonymisers = (pepper: Uint8Array) => ({ user: makePseudonymiser(pepper, 'user'), session: makePseudonymiser(pepper, 'session') });

const logger = lambdaLogger('ingest');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(ingestEnv);
    const pepper = await loadPepper();
    const clock = { now: () => new Date() };
    return makeIngestHandler({
      ingest: makeIngest({
        stream: new KinesisEventStream(kinesisClient(), config.STREAM_NAME),
        consent: new CachedConsentRegistry(new DynamoConsentRegistry(dynamoDbClient(), config.CONSENT_TABLE_NAME), clock),
        keys: new CachedRecordKeys(recordKeyStore(), clock),
        pseudonymise: pseudonymisers(pepper),
        clock,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      }),
      logger,
      metrics: emfMetrics(METRICS_NAMESPACE, 'ingest'),
      verifyBearer: functionUrlVerifier(),
    });
  }),
);
