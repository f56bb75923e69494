import type { Logger } from '../adapters/log';
import type { AlertMessage, Channel, DeliveryOutcome } from '../domain/alerting/model';
import type { Clock, Sleep } from '../ports';
import type { Deliver, NotificationChannel } from '../ports/notifications';
import { attempt, doubling } from './retry';

export interface DeliverDeps {
  readonly channels: readonly NotificationChannel[];
  /** Sends per channel, the first one included. */
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  /** No wait between attempts grows beyond this. */
  readonly maxDelayMs?: number;
  readonly sleep: Sleep;
  readonly clock: Clock;
  readonly random?: () => number;
  readonly logger: Logger;
}

// An SDK error can quote a request field back; the outcome keeps the class and a short message.
const MAX_ERROR_LENGTH = 200;

/**
 * Sends a message on each requested channel at once, so a slow e-mail never holds up the page,
 * and retries each failed send with exponential backoff and full jitter (concurrent detectors
 * retrying in step would otherwise hit a throttled topic together). Answers one outcome per
 * requested channel and never throws: what could not be sent is `undelivered`, for the alert
 * store to keep and `GET /v1/alerts` to show.
 */
export function makeDeliver(deps: DeliverDeps): Deliver {
  const attempts = deps.attempts ?? 4;
  const baseDelayMs = deps.baseDelayMs ?? 200;
  const maxDelayMs = deps.maxDelayMs ?? 2_000;
  const random = deps.random ?? Math.random;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a positive integer, got ${attempts}`);
  const byChannel = new Map<Channel, NotificationChannel>();
  for (const channel of deps.channels) {
    if (byChannel.has(channel.channel)) throw new RangeError(`two notification channels for ${channel.channel}`);
    byChannel.set(channel.channel, channel);
  }

  const backoff = doubling(baseDelayMs, maxDelayMs);
  async function sendWithRetries(channel: NotificationChannel, message: AlertMessage): Promise<DeliveryOutcome> {
    const sent = await attempt(
      {
        attempts,
        delayMs: (tried) => random() * backoff(tried),
        onFailure: (error, tried) => deps.logger.warn('alert send failed', { channel: channel.channel, groupKey: message.groupKey, attempt: tried, error: describe(error) }),
      },
      deps.sleep,
      () => channel.send(message),
    );
    if (sent.ok) return { channel: channel.channel, status: 'delivered', attempts: sent.attempts, at: deps.clock.now() };
    const error = describe(sent.error);
    deps.logger.error('alert undelivered', { channel: channel.channel, groupKey: message.groupKey, attempts, error });
    return { channel: channel.channel, status: 'undelivered', attempts, at: deps.clock.now(), error };
  }

  return async function deliver(message, channels) {
    return Promise.all(
      [...new Set(channels)].map(async (name): Promise<DeliveryOutcome> => {
        const channel = byChannel.get(name);
        if (channel !== undefined) return sendWithRetries(channel, message);
        const error = `no ${name} channel is configured in this deployment`;
        deps.logger.error('alert undelivered', { channel: name, groupKey: message.groupKey, attempts: 0, error });
        return { channel: name, status: 'undelivered', attempts: 0, at: deps.clock.now(), error };
      }),
    );
  };
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `non-error thrown: ${typeof error}`;
  return text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 3)}...`;
}
