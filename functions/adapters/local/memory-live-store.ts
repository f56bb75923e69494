import { EventEmitter } from 'node:events';
import type { Clock, LiveStore } from '../../ports';

interface Kinds {
  string: string;
  hash: Map<string, string>;
  set: Set<string>;
  list: string[];
}

interface Entry {
  readonly kind: keyof Kinds;
  readonly value: Kinds[keyof Kinds];
  expiresAt?: number;
}

/**
 * The embedded mode's live store: the LiveStore port over Maps in this process. Expired keys are
 * dropped when read, which is all the port promises; nothing sweeps them in the background.
 */
const SWEEP_EVERY_MS = 60_000;

export class MemoryLiveStore implements LiveStore {
  private readonly entries = new Map<string, Entry>();
  private lastSweep = 0;
  private readonly channels = new EventEmitter();

  constructor(private readonly options: { readonly clock: Clock }) {
    // Every open dashboard is a subscriber; the default cap of 10 would warn about a leak.
    this.channels.setMaxListeners(0);
  }

  async setHash(key: string, fields: Readonly<Record<string, string | number>>): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    const hash = this.valueFor(key, 'hash', () => new Map<string, string>());
    for (const [field, value] of Object.entries(fields)) hash.set(field, String(value));
  }

  async getHash(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.live(key, 'hash') ?? []);
  }

  async incrementHash(key: string, deltas: Readonly<Record<string, number>>, ttlSeconds: number): Promise<void> {
    for (const [field, delta] of Object.entries(deltas)) {
      if (!Number.isSafeInteger(delta)) throw new RangeError(`increment of ${field} must be an integer, got ${delta}`);
    }
    const hash = this.valueFor(key, 'hash', () => new Map<string, string>());
    for (const [field, delta] of Object.entries(deltas)) hash.set(field, String(Number(hash.get(field) ?? 0) + delta));
    this.expireIn(key, ttlSeconds);
  }

  async addToSet(key: string, members: readonly string[], ttlSeconds: number): Promise<number> {
    if (members.length === 0) return this.live(key, 'set')?.size ?? 0;
    const set = this.valueFor(key, 'set', () => new Set<string>());
    for (const member of members) set.add(member);
    this.expireIn(key, ttlSeconds);
    return set.size;
  }

  async removeFromSet(key: string, members: readonly string[]): Promise<number> {
    const set = this.live(key, 'set');
    if (!set) return 0;
    let removed = 0;
    for (const member of members) if (set.delete(member)) removed += 1;
    if (set.size === 0) this.entries.delete(key);
    return removed;
  }

  async pushCapped(key: string, value: string, maxLength: number): Promise<void> {
    const list = this.valueFor(key, 'list', () => [] as string[]);
    list.unshift(value);
    list.length = Math.min(list.length, Math.max(maxLength, 0));
    if (list.length === 0) this.entries.delete(key);
  }

  /** Inclusive bounds, negative ones counting from the end, as LRANGE reads them. */
  async range(key: string, start: number, stop: number): Promise<string[]> {
    const list = this.live(key, 'list') ?? [];
    const from = start < 0 ? Math.max(list.length + start, 0) : start;
    const to = stop < 0 ? list.length + stop : Math.min(stop, list.length - 1);
    return from > to ? [] : list.slice(from, to + 1);
  }

  async removeFromList(key: string, value: string): Promise<number> {
    const list = this.live(key, 'list');
    if (!list) return 0;
    const kept = list.filter((entry) => entry !== value);
    const removed = list.length - kept.length;
    list.splice(0, list.length, ...kept);
    if (list.length === 0) this.entries.delete(key);
    return removed;
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (this.liveEntry(key)) return false;
    this.entries.set(key, { kind: 'string', value });
    this.expireIn(key, ttlSeconds);
    return true;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key, 'string');
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }

  async publish(channel: string, message: string): Promise<void> {
    // Delivered on a later turn, as from a server, so a subscriber never runs inside publish().
    setImmediate(() => this.channels.emit(channel, message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const listener = (message: string): void => onMessage(message);
    this.channels.on(channel, listener);
    return async () => {
      this.channels.off(channel, listener);
    };
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.channels.removeAllListeners();
  }

  private liveEntry(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.options.clock.now().getTime()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private live<K extends keyof Kinds>(key: string, kind: K): Kinds[K] | undefined {
    const entry = this.liveEntry(key);
    if (!entry) return undefined;
    if (entry.kind !== kind) throw new TypeError(`key ${key} holds a ${entry.kind}, not a ${kind}`);
    return entry.value as Kinds[K];
  }

  private valueFor<K extends keyof Kinds>(key: string, kind: K, create: () => Kinds[K]): Kinds[K] {
    const existing = this.live(key, kind);
    if (existing !== undefined) return existing;
    const value = create();
    this.entries.set(key, { kind, value });
    return value;
  }

  private expireIn(key: string, ttlSeconds: number): void {
    const now = this.options.clock.now().getTime();
    const entry = this.entries.get(key);
    if (entry) entry.expiresAt = now + ttlSeconds * 1000;
    this.sweepExpired(now);
  }

  /**
   * Keys written once and never read again (a minute's active-user set) would otherwise stay in
   * memory for the life of the process; a sweep at most once a minute keeps the cost amortised.
   */
  private sweepExpired(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(key);
  }

  /** How many keys are held, expired ones not yet swept included; for operators and tests. */
  get size(): number {
    return this.entries.size;
  }
}
