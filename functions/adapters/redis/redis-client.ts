import { Redis, type RedisOptions } from 'ioredis';
import { jsonLogger, logLevelFromEnv, type Logger } from '../log';

/** Waits between reconnection attempts: doubling from 100 ms, at most 5 s. */
const reconnectDelay = (attempt: number): number => Math.min(100 * 2 ** (attempt - 1), 5_000);

/**
 * An ioredis client with the house's fault handling, for every Redis user (Lambdas, the local
 * runtime). ioredis reconnects by itself; without an `error` listener it prints every failed
 * attempt as an unhandled error, and a command would wait for ever in the offline queue. Here a
 * lost connection is logged once and again when it is back, reconnection backs off, and a command
 * fails after two reconnection attempts, which callers treat as the best-effort write it is.
 */
export function redisClient(url: string, options: RedisOptions & { readonly logger?: Pick<Logger, 'warn'> } = {}): Redis {
  const { logger = jsonLogger('redis', logLevelFromEnv()), ...redisOptions } = options;
  const client = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 2_000, retryStrategy: reconnectDelay, ...redisOptions });
  watchConnection(client, logger);
  return client;
}

/** Logs the first error of an outage and the recovery, not each reconnection attempt between them. */
export function watchConnection(client: Redis, logger: Pick<Logger, 'warn'>): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn('Redis connection lost; reconnecting with backoff', { error: error.message });
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.warn('Redis connection restored');
  });
}

/** A connection for health checks only: a ping fails at once while Redis is unreachable, instead of queueing. */
export function redisProbe(url: string, logger: Pick<Logger, 'warn'>): { ping(): Promise<void>; close(): Promise<void> } {
  const client = redisClient(url, { logger, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  client.connect().catch(() => undefined);
  return {
    async ping() {
      await client.ping();
    },
    async close() {
      client.disconnect();
    },
  };
}
