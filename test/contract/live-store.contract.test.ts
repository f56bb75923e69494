import { Redis } from 'ioredis';
import { MemoryLiveStore } from '../../functions/adapters/local/memory-live-store';
import { RedisLiveStore } from '../../functions/adapters/redis/redis-live-store';
import type { LiveStore } from '../../functions/ports';
import { describeWithServices, freshRedisPrefix, urls } from '../support/services';

interface LiveStoreFixture {
  readonly store: LiveStore;
  /** Lets `seconds` pass for the store's time to live. */
  elapse(seconds: number): Promise<void>;
  close(): Promise<void>;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function nextMessage(store: LiveStore, channel: string): Promise<{ message: Promise<string>; unsubscribe: () => Promise<void> }> {
  let deliver: (message: string) => void = () => undefined;
  const message = new Promise<string>((resolve) => (deliver = resolve));
  return store.subscribe(channel, (received) => deliver(received)).then((unsubscribe) => ({ message, unsubscribe }));
}

async function removeKeys(prefix: string): Promise<void> {
  const raw = new Redis(urls.redis);
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length > 0) await raw.del(...keys);
  await raw.quit();
}

function liveStoreContract(open: () => Promise<LiveStoreFixture>): void {
  let fixture: LiveStoreFixture;
  let store: LiveStore;

  beforeEach(async () => {
    fixture = await open();
    store = fixture.store;
  });

  afterEach(async () => {
    await fixture.close();
  });

  it('merges fields into a hash and reads them back as strings', async () => {
    // Act
    await store.setHash('performance:realtime', { events: 3, status: 'ok' });
    await store.setHash('performance:realtime', { status: 'degraded' });

    // Assess
    expect(await store.getHash('performance:realtime')).toEqual({ events: '3', status: 'degraded' });
    expect(await store.getHash('missing')).toEqual({});
  });

  it('adds to integer hash fields, creating them', async () => {
    // Act
    await store.incrementHash('counters', { sessions: 2, crises: 1 }, 60);
    await store.incrementHash('counters', { sessions: 3, crises: -1 }, 60);

    // Assess
    expect(await store.getHash('counters')).toEqual({ sessions: '5', crises: '0' });
  });

  it('answers the size of a set after adding members', async () => {
    // Act
    const first = await store.addToSet('users:today', ['a', 'b'], 60);
    const second = await store.addToSet('users:today', ['b', 'c', 'c'], 60);
    const unchanged = await store.addToSet('users:today', [], 60);

    // Assess
    expect([first, second, unchanged]).toEqual([2, 3, 3]);
  });

  it('removes members from a set, answering how many were there', async () => {
    await store.addToSet('users:minute', ['a', 'b', 'c'], 60);

    const removed = await store.removeFromSet('users:minute', ['b', 'x']);
    const nothing = await store.removeFromSet('users:missing', ['a']);

    expect([removed, nothing]).toEqual([1, 0]);
    expect(await store.addToSet('users:minute', [], 60)).toBe(2);
  });

  it('keeps the newest entries of a capped list, newest first', async () => {
    // Act
    for (const alert of ['one', 'two', 'three', 'four']) await store.pushCapped('alerts:critical', alert, 3);

    // Assess
    expect(await store.range('alerts:critical', 0, -1)).toEqual(['four', 'three', 'two']);
    expect(await store.range('alerts:critical', 1, 1)).toEqual(['three']);
    expect(await store.range('alerts:critical', -2, -1)).toEqual(['three', 'two']);
    expect(await store.range('alerts:empty', 0, -1)).toEqual([]);
  });

  it('removes every copy of one entry from a list, and nothing else', async () => {
    // Prepare
    for (const alert of ['one', 'two', 'one', 'three']) await store.pushCapped('alerts:warning', alert, 10);

    // Act
    const removed = await store.removeFromList('alerts:warning', 'one');
    const none = await store.removeFromList('alerts:nothing', 'one');

    // Assess
    expect([removed, none]).toEqual([2, 0]);
    expect(await store.range('alerts:warning', 0, -1)).toEqual(['three', 'two']);
  });

  it('sets a key only when absent', async () => {
    // Act
    const first = await store.setIfAbsent('cooldown:rule-1', 'first', 60);
    const second = await store.setIfAbsent('cooldown:rule-1', 'second', 60);

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(await store.get('cooldown:rule-1')).toBe('first');
    expect(await store.get('cooldown:missing')).toBeUndefined();
  });

  it('forgets keys once their time to live has passed', async () => {
    // Prepare
    await store.setIfAbsent('cooldown:short', 'x', 1);
    await store.incrementHash('counters:short', { n: 1 }, 1);
    await store.addToSet('set:short', ['a'], 1);
    await store.setIfAbsent('cooldown:long', 'y', 60);

    // Act
    await fixture.elapse(1.2);

    // Assess
    expect(await store.get('cooldown:short')).toBeUndefined();
    expect(await store.getHash('counters:short')).toEqual({});
    expect(await store.addToSet('set:short', ['b'], 60)).toBe(1);
    expect(await store.get('cooldown:long')).toBe('y');
    expect(await store.setIfAbsent('cooldown:short', 'again', 60)).toBe(true);
  });

  it('deletes keys of every kind', async () => {
    // Prepare
    await store.setHash('h', { a: 1 });
    await store.pushCapped('l', 'x', 5);
    await store.setIfAbsent('s', 'x', 60);

    // Act
    await store.delete(['h', 'l', 's', 'never-set']);

    // Assess
    expect(await store.getHash('h')).toEqual({});
    expect(await store.range('l', 0, -1)).toEqual([]);
    expect(await store.get('s')).toBeUndefined();
  });

  it('delivers a published message to a subscriber until it unsubscribes', async () => {
    // Prepare
    const received: string[] = [];
    const unsubscribe = await store.subscribe('dashboard', (message) => received.push(message));
    const probe = await nextMessage(store, 'dashboard');

    // Act
    await store.publish('dashboard', 'first');
    await probe.message;
    await unsubscribe();
    await store.publish('dashboard', 'second');
    await pause(100);

    // Assess
    expect(received).toEqual(['first']);
    await probe.unsubscribe();
  });

  it('keeps channels apart', async () => {
    // Prepare
    const other: string[] = [];
    const unsubscribeOther = await store.subscribe('other', (message) => other.push(message));
    const probe = await nextMessage(store, 'dashboard');

    // Act
    await store.publish('dashboard', 'hello');

    // Assess
    expect(await probe.message).toBe('hello');
    await pause(50);
    expect(other).toEqual([]);
    await Promise.all([probe.unsubscribe(), unsubscribeOther()]);
  });
}

describe('in-process live store', () => {
  liveStoreContract(async () => {
    let now = Date.parse('2026-11-20T10:00:00Z');
    const store = new MemoryLiveStore({ clock: { now: () => new Date(now) } });
    return {
      store,
      async elapse(seconds) {
        now += seconds * 1000;
      },
      close: () => store.close(),
    };
  });

  it('forgets keys that expired without being read again, so a long run does not grow without bound', async () => {
    let now = Date.parse('2026-11-20T10:00:00Z');
    const store = new MemoryLiveStore({ clock: { now: () => new Date(now) } });
    for (let minute = 0; minute < 120; minute += 1) {
      now += 60_000;
      await store.addToSet(`performance:users:${minute}`, ['a', 'b'], 15 * 60);
    }

    // 15 minutes of TTL and a sweep at most once a minute: about 16 sets remain of 120 written.
    expect(store.size).toBeLessThanOrEqual(17);
    expect(store.size).toBeGreaterThanOrEqual(15);
  });
});

describeWithServices(['redis'], 'Redis live store', () => {
  liveStoreContract(async () => {
    const prefix = freshRedisPrefix();
    const store = new RedisLiveStore(new Redis(urls.redis), { keyPrefix: prefix });
    return {
      store,
      elapse: (seconds) => pause(seconds * 1000),
      async close() {
        await store.close();
        await removeKeys(prefix);
      },
    };
  });

  it('prefixes its keys and channels', async () => {
    // Prepare
    const prefix = freshRedisPrefix();
    const raw = new Redis(urls.redis);
    const store = new RedisLiveStore(new Redis(urls.redis), { keyPrefix: prefix });
    const probe = await nextMessage(store, 'dashboard');

    // Act
    await store.setIfAbsent('cooldown', 'x', 60);
    await raw.publish(`${prefix}dashboard`, 'from outside');

    // Assess
    expect(await raw.get(`${prefix}cooldown`)).toBe('x');
    expect(await raw.get('cooldown')).toBeNull();
    expect(await probe.message).toBe('from outside');
    await raw.quit();
    await store.close();
    await removeKeys(prefix);
  });
});
