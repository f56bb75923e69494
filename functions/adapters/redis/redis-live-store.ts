import type { ChainableCommander, Redis } from 'ioredis';
import type { LiveStore } from '../../ports';

export interface RedisLiveStoreOptions {
  /** Prepended to every key and every pub/sub channel, so deployments and test suites never meet. */
  readonly keyPrefix?: string;
}

type MessageHandler = (message: string) => void;

/** The live store on Redis (ElastiCache in AWS). It owns `client` and closes it. */
export class RedisLiveStore implements LiveStore {
  private readonly prefix: string;
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<MessageHandler>>();

  constructor(
    private readonly client: Redis,
    options: RedisLiveStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? '';
  }

  async setHash(key: string, fields: Readonly<Record<string, string | number>>): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    await this.client.hset(this.key(key), fields);
  }

  async getHash(key: string): Promise<Record<string, string>> {
    return this.client.hgetall(this.key(key));
  }

  async incrementHash(key: string, deltas: Readonly<Record<string, number>>, ttlSeconds: number): Promise<void> {
    assertIntegers(deltas);
    const prefixed = this.key(key);
    const transaction = this.client.multi();
    for (const [field, delta] of Object.entries(deltas)) transaction.hincrby(prefixed, field, delta);
    transaction.expire(prefixed, ttlSeconds);
    await run(transaction);
  }

  async addToSet(key: string, members: readonly string[], ttlSeconds: number): Promise<number> {
    const prefixed = this.key(key);
    const transaction = this.client.multi();
    if (members.length > 0) transaction.sadd(prefixed, ...members);
    transaction.expire(prefixed, ttlSeconds).scard(prefixed);
    const results = await run(transaction);
    return Number(results[results.length - 1]);
  }

  async pushCapped(key: string, value: string, maxLength: number): Promise<void> {
    const prefixed = this.key(key);
    await run(this.client.multi().lpush(prefixed, value).ltrim(prefixed, 0, maxLength - 1));
  }

  async range(key: string, start: number, stop: number): Promise<string[]> {
    return this.client.lrange(this.key(key), start, stop);
  }

  async removeFromList(key: string, value: string): Promise<number> {
    return this.client.lrem(this.key(key), 0, value);
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.client.set(this.key(key), value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.key(key))) ?? undefined;
  }

  async removeFromSet(key: string, members: readonly string[]): Promise<number> {
    if (members.length === 0) return 0;
    return this.client.srem(this.key(key), ...members);
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.client.del(...keys.map((key) => this.key(key)));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.key(channel), message);
  }

  async subscribe(channel: string, onMessage: MessageHandler): Promise<() => Promise<void>> {
    const prefixed = this.key(channel);
    const subscriber = this.subscriberConnection();
    let handlers = this.handlers.get(prefixed);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(prefixed, handlers);
      await subscriber.subscribe(prefixed);
    }
    // A wrapper, so the same function subscribed twice is two subscriptions ended one by one.
    const handler: MessageHandler = (message) => onMessage(message);
    handlers.add(handler);
    return async () => {
      const current = this.handlers.get(prefixed);
      if (!current?.delete(handler) || current.size > 0) return;
      this.handlers.delete(prefixed);
      await subscriber.unsubscribe(prefixed);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.all([this.subscriber?.quit(), this.client.quit()]);
    this.subscriber = undefined;
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** A connection in subscriber mode can run nothing else, hence a second one, made on first use. */
  private subscriberConnection(): Redis {
    if (!this.subscriber) {
      const subscriber = this.client.duplicate();
      // Its connection faults are the client's: reported (and logged) once, where the owner listens.
      subscriber.on('error', (error: Error) => this.client.emit('error', error));
      subscriber.on('message', (channel: string, message: string) => {
        for (const handler of this.handlers.get(channel) ?? []) handler(message);
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }
}

async function run(transaction: ChainableCommander): Promise<unknown[]> {
  const results = await transaction.exec();
  if (!results) throw new Error('Redis transaction aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

function assertIntegers(deltas: Readonly<Record<string, number>>): void {
  for (const [field, delta] of Object.entries(deltas)) {
    if (!Number.isSafeInteger(delta)) throw new RangeError(`increment of ${field} must be an integer, got ${delta}`);
  }
}
