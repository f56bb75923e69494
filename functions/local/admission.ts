import type { Clock, Metrics } from '../ports';
import type { ConsumerLag } from '../domain/operations/health';
import type { Logger } from '../adapters/log';
import { json } from '../handlers/http/middleware';
import type { LambdaHttpHandler } from './http-server';
import { STREAM_CONSUMERS } from './adapters';

/**
 * How old the oldest record a consumer has not processed may be before ingest refuses more. The
 * detect consumer's bound is a third of the age at which /health and the lag alert call it down
 * (DETECT_LAG_LIMIT_MS, 30 s): a safety alert then waits behind at most this much of a backlog,
 * where an unbounded one grew past the detect mapping's 5-minute record age and dead-lettered
 * (issue 14). The aggregate bound keeps the backlog, which sits in the stream log's mapped pages
 * in memory, to what the aggregator folds in 15 s once ingest is held to its pace: at 60 s the
 * whole demo (243,323 events sent at 5,400 a second) fitted under the bound and memory was not
 * bounded at all. Held back, the demo ends later but the aggregator no sooner or later: the
 * same events are folded at the same pace, only no longer queued.
 */
export const ADMISSION_BOUNDS_MS: Readonly<Record<string, number>> = { [STREAM_CONSUMERS.detect]: 10_000, [STREAM_CONSUMERS.aggregate]: 15_000 };

/** How long one judgement serves: the lag is read from the stream, not on every request. */
export const ADMISSION_CACHE_MS = 1_000;

/** Retry-After is clamped to this: a client told to wait longer would leave the stream idle once the consumers catch up. */
const MAX_RETRY_AFTER_S = 10;

export type Admission = { readonly admit: true } | { readonly admit: false; readonly consumer: string; readonly oldestAgeMs: number; readonly retryAfterS: number };

/**
 * The judgement for one moment: refused while a consumer's oldest unprocessed record is older
 * than its bound, with a Retry-After of the seconds it is over (a consumer that keeps up drains
 * about a second of backlog a second, more when it catches up in full batches). Records behind is
 * not judged: the lag counts them up to a sample, which one batch of the demo fills.
 */
export function judgeAdmission(lags: Readonly<Record<string, ConsumerLag>>, bounds: Readonly<Record<string, number>> = ADMISSION_BOUNDS_MS): Admission {
  let worst: Admission = { admit: true };
  for (const [consumer, limitMs] of Object.entries(bounds)) {
    const lag = lags[consumer];
    if (!lag || lag.oldestAgeMs <= limitMs) continue;
    const retryAfterS = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((lag.oldestAgeMs - limitMs) / 1_000)));
    if (worst.admit || retryAfterS > worst.retryAfterS) worst = { admit: false, consumer, oldestAgeMs: lag.oldestAgeMs, retryAfterS };
  }
  return worst;
}

export interface AdmissionDeps {
  readonly lag: (consumer: string) => Promise<ConsumerLag>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly bounds?: Readonly<Record<string, number>>;
  readonly cacheMs?: number;
}

/**
 * The judgement, read at most once per `cacheMs` and shared by concurrent requests. A lag that
 * cannot be read admits: /health reports it down, and refusing every event for a failed count
 * would lose more than a backlog does.
 */
export function makeAdmission(deps: AdmissionDeps): () => Promise<Admission> {
  const bounds = deps.bounds ?? ADMISSION_BOUNDS_MS;
  const cacheMs = deps.cacheMs ?? ADMISSION_CACHE_MS;
  let judged: { at: number; admission: Promise<Admission> } | undefined;

  async function judge(): Promise<Admission> {
    try {
      const consumers = Object.keys(bounds);
      const lags = await Promise.all(consumers.map((consumer) => deps.lag(consumer)));
      return judgeAdmission(Object.fromEntries(consumers.map((consumer, at) => [consumer, lags[at]!])), bounds);
    } catch (error) {
      deps.logger.warn('ingest admission: lag unknown, admitting', { error: error instanceof Error ? error.message : String(error) });
      return { admit: true };
    }
  }

  return () => {
    const now = deps.clock.now().getTime();
    if (!judged || now - judged.at >= cacheMs) judged = { at: now, admission: judge() };
    return judged.admission;
  };
}

/**
 * POST /v1/events behind the admission: while a consumer is over its bound the whole request is
 * refused with 429 and Retry-After before the handler reads it, so nothing of it is stored and
 * the client sends the same batch again. Counted as `ingest_throttled_total` per consumer.
 */
export function admitted(handler: LambdaHttpHandler, admission: () => Promise<Admission>, metrics: Metrics): LambdaHttpHandler {
  return async (event, context) => {
    const verdict = await admission();
    if (verdict.admit) return handler(event, context);
    metrics.count('ingest_throttled_total', 1, { consumer: verdict.consumer });
    const message = `the ${verdict.consumer} consumer is ${Math.round(verdict.oldestAgeMs / 1_000)} s behind; nothing of this request was stored: send it again after Retry-After`;
    return json(429, { error: { code: 'ingest_backlog', message } }, { 'retry-after': String(verdict.retryAfterS) });
  };
}
