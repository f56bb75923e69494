import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { HealthReport } from '../operations/health';
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
    summary: "The runtime's counters in the Prometheus text format (local runtime)",
    tags: ['Local runtime'],
    responses: {
      200: {
        description: 'Counters, and summaries as `_sum` and `_count`.',
        content: { 'text/plain; version=0.0.4': { schema: z.string(), example: '# TYPE events_accepted_total counter\nevents_accepted_total 1200\n# TYPE ingest_latency_ms summary\ningest_latency_ms_sum 5021.4\ningest_latency_ms_count 40\n' } },
      },
    },
  });
}
