import { setTimeout as sleepFor } from 'node:timers/promises';
import type { IncomingEvent } from '../domain/events/schema';

export interface BatchResult {
  readonly accepted: number;
  readonly rejected: readonly { code: string }[];
}

export interface PostEventsOptions {
  readonly url: string;
  readonly token: string;
  /** Tries of a batch that failed (network errors, 5xx, a 429 without Retry-After). */
  readonly maxAttempts?: number;
  readonly timeoutMs?: number;
  /** How long a batch may be held back by Retry-After in all before the client gives up: the consumers are not catching up. */
  readonly maxBacklogWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<unknown>;
  readonly random?: () => number;
}

/** Why a batch was not sent: `status` is the last answer's, undefined when the service was not reached. */
export class IngestFailed extends Error {
  override readonly name = 'IngestFailed';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: string,
  ) {
    super(message);
  }
}

const retryable = (status: number) => status >= 500 || status === 429;

/** Retry-After in seconds (the API sends no HTTP dates), or undefined when absent or unusable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header) * 1_000;
}

/**
 * POSTs one batch to /v1/events. A 429 with Retry-After (the local runtime's backlog admission)
 * is waited out as asked and not counted as a failed try: nothing of the batch was stored, so the
 * whole batch goes again. Network errors, 5xx and a bare 429 (API Gateway's throttle) are retried
 * with exponential backoff and full jitter, `maxAttempts` times.
 */
export async function postEvents(events: readonly IncomingEvent[], options: PostEventsOptions): Promise<BatchResult> {
  const { maxAttempts = 6, timeoutMs = 30_000, maxBacklogWaitMs = 10 * 60_000, sleep = sleepFor, random = Math.random } = options;
  const body = JSON.stringify({ events });
  let failures = 0;
  let heldBackMs = 0;
  let wait = 0;
  let last: IngestFailed | undefined;
  for (;;) {
    if (wait > 0) await sleep(wait);
    const response = await fetch(`${options.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((error: unknown) => error as Error & { cause?: { code?: string } });
    if (response instanceof Error) {
      last = new IngestFailed(`cannot reach ${options.url} (${response.cause?.code ?? response.message})`, undefined, '');
    } else {
      if (response.status === 202) return (await response.json()) as BatchResult;
      const text = await response.text();
      last = new IngestFailed(`${options.url}/v1/events answered ${response.status}: ${text.slice(0, 500)}`, response.status, text);
      if (!retryable(response.status)) throw last;
      const asked = response.status === 429 ? retryAfterMs(response.headers.get('retry-after')) : undefined;
      if (asked !== undefined) {
        if (heldBackMs + asked > maxBacklogWaitMs) throw new IngestFailed(`held back by ${options.url} for over ${maxBacklogWaitMs / 1_000} s: ${last.message}`, 429, text);
        heldBackMs += asked;
        wait = asked;
        continue;
      }
    }
    failures += 1;
    if (failures >= maxAttempts) throw new IngestFailed(`gave up on a batch after ${maxAttempts} attempts: ${last.message}`, last.status, last.body);
    wait = random() * Math.min(10_000, 500 * 2 ** failures);
  }
}
