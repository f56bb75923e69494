import type { AlertMessage } from '../domain/alerting/model';
import { ALERT_FEED_CHANNEL } from '../adapters/dashboard-channel';
import { REALTIME_CHANNEL, REALTIME_KEY } from './aggregate';
import type { Logger } from '../adapters/log';
/** The channels of the live store the view listens to. */
export type LiveChannel = typeof REALTIME_CHANNEL | typeof ALERT_FEED_CHANNEL;

/**
 * Where the live view's events come from: the live store (Redis where there is one) and its
 * publications. RedisLiveStore is one as it is; the local runtime's aggregator thread is another.
 */
export interface LiveSource {
  getHash(key: string): Promise<Record<string, string>>;
  /** Answers a function that ends the subscription. */
  subscribe(channel: LiveChannel, onMessage: (message: string) => void): Promise<() => Promise<void>>;
}

/**
 * What the events are written to: a node ServerResponse in the local runtime, a Lambda response
 * stream in AWS. Both are writables that emit `close`; the response does when its client goes,
 * Lambda's only once ended (it is not told of a client that goes: hence `endAfterMs` there).
 */
export interface EventStreamWriter {
  write(chunk: string): unknown;
  end(): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** The answer's headers; a proxy that buffers (nginx) is asked not to. */
export const LIVE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' };

/** Counters are published per batch, many a second under load: a viewer gets the newest at most this often. */
export const COUNTERS_EVERY_MS = 2_000;
/** A comment line this often keeps proxies (and CloudFront, which waits 30 s between bytes) from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** The SSE `retry:` field: how long a browser's EventSource waits before it reconnects. */
const RETRY_MS = 2_000;

/**
 * The counters as the live view shows them. Active people below k are withheld (the field is
 * left out, shown as suppressed), as any count of fewer than k people is: these are counts of
 * one minute, and a minute of one active user next to the alerts list would point at them.
 */
export function releasedCounters(stored: Readonly<Record<string, string | number>>, k: number): Record<string, string | number> | undefined {
  if (stored['minute'] === undefined) return undefined;
  const activeUsers = Number(stored['active_users'] ?? 0);
  return {
    minute: String(stored['minute']),
    events_per_min: Number(stored['events_per_min'] ?? 0),
    ...(activeUsers === 0 || activeUsers >= k ? { active_users: activeUsers } : {}),
    avg_ingest_ms: Number(stored['avg_ingest_ms'] ?? 0),
    updated_at: String(stored['updated_at'] ?? ''),
  };
}

/** What an alert publication tells a viewer: that alerts changed, not whose (the viewer reads the ones its role may see). */
export function alertNotice(published: string): { kind: string; severity: string; alertIds: string[] } {
  const message = JSON.parse(published) as Pick<AlertMessage, 'kind' | 'severity' | 'alerts'>;
  return { kind: message.kind, severity: message.severity, alertIds: message.alerts.map((alert) => alert.id) };
}

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export interface LiveEventsOptions {
  readonly k: number;
  readonly logger: Logger;
  /** Ends the stream after this long (the client reconnects): set where the server has a deadline of its own. */
  readonly endAfterMs?: number;
}

/**
 * GET /v1/live: server-sent events, `counters` (the newest at most every COUNTERS_EVERY_MS, the
 * stored ones first) and `alert` as alerts are published, to a writer whose status and headers
 * are already sent. Nothing is polled: both come from the live store's pub/sub. Resolves once the
 * stream has ended (the client went, `endAfterMs` passed, or the store could not be subscribed to)
 * and its subscriptions are stopped.
 */
export async function streamLiveEvents(source: LiveSource, writer: EventStreamWriter, options: LiveEventsOptions): Promise<void> {
  let open = true;
  let clientGone = false;
  let deadline: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    writer.on('close', () => {
      clientGone = true;
      resolve();
    });
    if (options.endAfterMs !== undefined) deadline = setTimeout(resolve, options.endAfterMs);
  });
  const write = (chunk: string) => open && writer.write(chunk);

  let pending: Record<string, string | number> | undefined;
  let lastSent = 0;
  let timer: NodeJS.Timeout | undefined;
  const sendCounters = () => {
    timer = undefined;
    if (!pending) return;
    write(event('counters', pending));
    pending = undefined;
    lastSent = Date.now();
  };
  const offerCounters = (counters: Record<string, string | number> | undefined) => {
    if (!counters || !open) return;
    pending = counters;
    timer ??= setTimeout(sendCounters, Math.max(0, lastSent + COUNTERS_EVERY_MS - Date.now()));
  };

  write(`retry: ${RETRY_MS}\n\n`);
  const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
  const subscriptions = await Promise.allSettled([
    source.subscribe(REALTIME_CHANNEL, (message) => offerCounters(releasedCounters(JSON.parse(message) as Record<string, string | number>, options.k))),
    source.subscribe(ALERT_FEED_CHANNEL, (message) => write(event('alert', alertNotice(message)))),
  ]);
  const stops = subscriptions.flatMap((subscription) => (subscription.status === 'fulfilled' ? [subscription.value] : []));
  if (stops.length < subscriptions.length) {
    // Ended at once: the client reconnects after `retry`, by when the store may answer again.
    options.logger.warn('live events not subscribed', { error: errorName(subscriptions.find((s) => s.status === 'rejected')?.reason) });
  } else {
    source.getHash(REALTIME_KEY).then(
      // Only when nothing newer was published meanwhile.
      (stored) => lastSent === 0 && pending === undefined && offerCounters(releasedCounters(stored, options.k)),
      (error: unknown) => options.logger.warn('live counters not read', { error: errorName(error) }),
    );
    await ended;
  }
  open = false;
  clearInterval(heartbeat);
  clearTimeout(timer);
  clearTimeout(deadline);
  if (!clientGone) writer.end();
  for (const stopped of await Promise.allSettled(stops.map((stop) => stop()))) {
    if (stopped.status === 'rejected') options.logger.warn('live events not unsubscribed', { error: errorName(stopped.reason) });
  }
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'unknown');
