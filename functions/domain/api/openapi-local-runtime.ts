import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { HealthReport } from '../operations/health';
import type { ImportSummary } from '../events/history-import';
import { json } from './openapi-route';

/*
 * Outside ROUTES: the local runtime answers /health and /metrics itself (functions/local/runtime.ts);
 * in AWS, CloudWatch has their part. Tagged `Local runtime`, the only operations of the document
 * ROUTES may lack (test/unit/api/openapi.test.ts).
 */

const partStatus = z.enum(['ok', 'degraded', 'down']);
const healthReport = z
  .object({
    status: partStatus.meta({ description: '`down` (503) when a part whose failure loses or delays accepted events or safety alerts is down; `degraded` when only a best-effort part is.' }),
    parts: z.record(z.string(), z.object({ status: partStatus, reason: z.string().optional().meta({ description: 'Why, when not ok; never data.' }) }).catchall(z.unknown())),
  })
  .meta({ id: 'HealthReport' }) satisfies z.ZodType<HealthReport>;

const healthExample: HealthReport = {
  status: 'ok',
  parts: { database: { status: 'ok' }, detectLag: { status: 'ok', recordsBehind: 0, oldestAgeMs: 0, limitMs: 30_000 } },
};

const importRejectionCodes = z.enum(['malformed_line', 'invalid_event', 'pii_detected', 'occurred_at_out_of_range', 'consent_missing']);
const importSummary = z
  .object({
    read: z.int(),
    accepted: z.int(),
    duplicates: z.int(),
    rejected: z.partialRecord(importRejectionCodes, z.int()),
    errors: z.array(z.object({ line: z.int(), code: importRejectionCodes, message: z.string() })),
    errorsNotListed: z.int(),
  })
  .meta({ id: 'ImportSummary' }) satisfies z.ZodType<ImportSummary>;

const importExample: ImportSummary = {
  read: 120_402,
  accepted: 120_398,
  duplicates: 1,
  rejected: { malformed_line: 1, consent_missing: 2 },
  errors: [
    { line: 17, code: 'malformed_line', message: 'not valid JSON: each line must hold one event as a JSON object' },
    { line: 880, code: 'consent_missing', message: 'userId: the user has not given analytics consent; the event was not stored' },
    { line: 881, code: 'consent_missing', message: 'userId: the user has not given analytics consent; the event was not stored' },
  ],
  errorsNotListed: 0,
};

/** Registers the local runtime's own operations. */
export function registerLocalRuntime(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Readiness and the health of each part (local runtime)',
    tags: ['Local runtime'],
    responses: {
      200: { description: 'Ready; `ok` or `degraded`.', content: json(healthReport, healthExample) },
      503: { description: 'Starting (`{"status": "starting"}`), or a part that loses or delays data is down.', content: json(z.union([healthReport, z.object({ status: z.literal('starting') })]), { status: 'starting' }) },
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/metrics',
    operationId: 'prometheusMetrics',
    summary: "The runtime's metrics in the Prometheus text format (local runtime)",
    tags: ['Local runtime'],
    responses: {
      200: {
        description:
          "The process's default metrics (`process_*`, `nodejs_*`), the product's counters, histograms and summaries, and the platform's `tta_user_sessions_total`, `tta_user_interactions_total` and `tta_session_duration_seconds` (README, Prometheus and Grafana).",
        content: {
          'text/plain; version=0.0.4; charset=utf-8': {
            schema: z.string(),
            example: [
              '# HELP events_accepted_total Events ingest put on the stream.',
              '# TYPE events_accepted_total counter',
              'events_accepted_total 1200',
              '# HELP tta_user_sessions_total Sessions started, by session type (the platform the session ran on).',
              '# TYPE tta_user_sessions_total counter',
              'tta_user_sessions_total{session_type="ios"} 85',
              '# HELP tta_session_duration_seconds Duration of the sessions ended, in seconds, by session type.',
              '# TYPE tta_session_duration_seconds histogram',
              'tta_session_duration_seconds_bucket{le="60",session_type="ios"} 4',
              'tta_session_duration_seconds_bucket{le="300",session_type="ios"} 19',
              'tta_session_duration_seconds_bucket{le="600",session_type="ios"} 41',
              'tta_session_duration_seconds_bucket{le="1800",session_type="ios"} 72',
              'tta_session_duration_seconds_bucket{le="3600",session_type="ios"} 79',
              'tta_session_duration_seconds_bucket{le="7200",session_type="ios"} 80',
              'tta_session_duration_seconds_bucket{le="+Inf",session_type="ios"} 80',
              'tta_session_duration_seconds_sum{session_type="ios"} 61250',
              'tta_session_duration_seconds_count{session_type="ios"} 80',
              '',
            ].join('\n'),
          },
        },
      },
    },
  });

  const errorEnvelope = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
  registry.registerPath({
    method: 'post',
    path: '/imports',
    operationId: 'importHistory',
    summary: 'Import history: a JSON Lines file, plain or gzipped, as the body (local runtime; `npm run import` sends it)',
    description:
      'Each line is admitted as `POST /v1/events` admits an event (validation, PII refusal, consent, pseudonymisation) but without the 30-day window, and stored into the rollups, deduplicated by `eventId`: an import run again changes nothing. In AWS, a file put under `imports/` in the imports bucket does the same and its summary is written beside it as `FILE.result.json`. Admin token only.',
    tags: ['Local runtime'],
    security: [{ bearerAuth: [] }],
    request: { body: { content: { 'application/x-ndjson': { schema: z.string(), example: '{"eventId": "...", "type": "session.started", ...}\n' } } } },
    responses: {
      200: { description: 'The summary: lines read, events accepted, duplicates (stored before or repeated), refusals by code, and the first 100 refused lines by number.', content: json(importSummary, importExample) },
      400: { description: '`unreadable_file`: the body starts as gzip but is corrupt or cut off; the lines before the fault are imported.', content: json(errorEnvelope, { error: { code: 'unreadable_file', message: 'the file starts as gzip but is not valid gzip (unexpected end of file): corrupt or cut off' } }) },
      401: { description: 'No valid bearer token.' },
      403: { description: 'Not an admin token.' },
      503: { description: 'The consent registry or the database did not answer; what came before is stored: run the import again.' },
    },
  });

  registry.registerPath({
    method: 'post',
    path: '/model-runs',
    operationId: 'runModels',
    summary: 'Run the behaviour models now (local runtime; `npm run model` calls it, and the runtime runs it nightly at 02:00 UTC)',
    description:
      'Fits each model in turn (the archetypes and behaviour sequences, the outcome model) over the feature rows, stores it where its route reads it, and keeps its artefact with its quality figures under `models/<step>/<version>.json` in the object store (`DATA_DIR/objects` here, the model bucket in AWS, where an EventBridge rule runs the model function nightly). The answer streams a line of JSON per step of progress, then `{"report": ...}`; a run asked for while one is going starts after it. The body is ignored. Admin token only.',
    tags: ['Local runtime'],
    security: [{ bearerAuth: [] }],
    responses: {
      200: {
        description: 'Lines of JSON: `{"progress": {"step", "done", "total"}}` while it runs, then `{"report": {"startedAt", "finishedAt", "steps": [{"name", "status": "fitted" | "skipped" | "failed", ...}]}}`.',
        content: { 'application/x-ndjson': { schema: z.string(), example: '{"progress":{"step":"patterns","done":1000,"total":2000}}\n{"report":{"startedAt":"2026-12-05T02:00:00.000Z","finishedAt":"2026-12-05T02:00:04.100Z","steps":[{"name":"patterns","status":"fitted","version":"2026-12-05T02-00-00Z","quality":{"users":2000,"k":5,"silhouette":0.61},"artefact":"models/patterns/2026-12-05T02-00-00Z.json","seconds":4.1}]}}\n' } },
      },
      401: { description: 'No valid bearer token.' },
      403: { description: 'Not an admin token.' },
    },
  });
}
