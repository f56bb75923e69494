import type { ServerResponse } from 'node:http';
import type { AlertMessage } from '../domain/alerting/model';
import { ALERT_FEED_CHANNEL } from '../adapters/dashboard-channel';
import { REALTIME_CHANNEL, REALTIME_KEY } from '../use-cases/aggregate';
import type { Logger } from '../adapters/log';

/** Where the live view's events come from: the thread's live store (Redis where there is one) and its publications. */
export interface LiveSource {
  getHash(key: string): Promise<Record<string, string>>;
  onPublished(channel: typeof REALTIME_CHANNEL | typeof ALERT_FEED_CHANNEL, listener: (message: string) => void): () => void;
}

/** Counters are published per batch, many a second under load: a viewer gets the newest at most this often. */
export const COUNTERS_EVERY_MS = 2_000;
/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

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

/**
 * GET /v1/live: server-sent events, `counters` (the newest at most every COUNTERS_EVERY_MS, the
 * stored ones first) and `alert` as alerts are published. Nothing is polled: both come from the
 * live store's pub/sub.
 */
export function liveEvents(source: LiveSource, options: { readonly k: number; readonly logger: Logger }): (response: ServerResponse) => void {
  return (response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    response.write(`retry: 2000\n\n`);
    let pending: Record<string, string | number> | undefined;
    let lastSent = 0;
    let timer: NodeJS.Timeout | undefined;
    const sendCounters = () => {
      timer = undefined;
      if (!pending) return;
      response.write(event('counters', pending));
      pending = undefined;
      lastSent = Date.now();
    };
    const offerCounters = (counters: Record<string, string | number> | undefined) => {
      if (!counters) return;
      pending = counters;
      timer ??= setTimeout(sendCounters, Math.max(0, lastSent + COUNTERS_EVERY_MS - Date.now()));
    };
    const stops = [
      source.onPublished(REALTIME_CHANNEL, (message) => offerCounters(releasedCounters(JSON.parse(message) as Record<string, string | number>, options.k))),
      source.onPublished(ALERT_FEED_CHANNEL, (message) => response.write(event('alert', alertNotice(message)))),
    ];
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
    response.on('close', () => {
      for (const stop of stops) stop();
      clearInterval(heartbeat);
      clearTimeout(timer);
    });
    source.getHash(REALTIME_KEY).then(
      // Only when nothing newer was published meanwhile.
      (stored) => lastSent === 0 && pending === undefined && offerCounters(releasedCounters(stored, options.k)),
      (error: unknown) => options.logger.warn('live counters not read', { error: error instanceof Error ? error.name : 'unknown' }),
    );
  };
}

