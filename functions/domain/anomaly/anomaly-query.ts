import { z } from 'zod';
import { boundedInstantMs, INSTANT_RANGE_MESSAGE } from '../api/input-bounds';
import { WATCHED_SERIES, type DetectorName } from './watched-series';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const instant = z
  .string()
  .regex(ISO_INSTANT, 'must be an ISO-8601 instant with an offset, like 2026-11-20T10:00:00Z')
  .refine((text) => !Number.isNaN(boundedInstantMs(text)), { message: INSTANT_RANGE_MESSAGE })
  .transform((s) => new Date(s));

const WATCHED_KEYS = WATCHED_SERIES.map((series) => series.key) as [string, ...string[]];

/** The query of `GET /v1/anomalies`: minutes in [from, to), newest first. */
export const anomalyQuerySchema = z
  .object({
    from: instant.meta({ description: "Start of the range of the anomalies' minutes (inclusive).", example: '2026-11-20T00:00:00Z' }),
    to: instant.meta({ description: 'End of the range (exclusive).', example: '2026-11-21T00:00:00Z' }),
    // An enum, so the OpenAPI document lists the series; the message stays the API's own.
    series: z.enum(WATCHED_KEYS, { error: `must be a watched series, one of ${WATCHED_KEYS.join(', ')}` }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .refine((query) => query.from < query.to, { message: 'must be after from', path: ['to'] });

/** An item of `GET /v1/anomalies`: an anomaly as the API shows it, without its count of users. */
export interface AnomalyView {
  readonly series: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly detector: DetectorName;
  readonly t: string;
  readonly value: number;
  readonly expected: number;
  readonly score: number;
  readonly direction: string;
}

export type AnomalyQueryParameters = z.infer<typeof anomalyQuerySchema>;
