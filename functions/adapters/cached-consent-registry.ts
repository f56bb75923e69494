import { CONSENT_CACHE_TTL_MS, type ConsentRecord } from '../domain/privacy/consent';
import type { Clock } from '../ports';
import type { ConsentRegistry } from '../ports/consent';

interface Entry {
  readonly record: ConsentRecord | undefined;
  /** When the read that produced the entry started (or the write happened), epoch ms. */
  readonly asOf: number;
  /** Orders reads and writes of this instance, which may fall in the same millisecond. */
  readonly ticket: number;
}

/**
 * The registry behind a per-instance cache, so an ingest request of 500 events from 40 users
 * costs at most one registry round trip, and none for users seen in the last seconds. An entry
 * is trusted for `ttlMs` from the moment its read began, which bounds how late a withdrawal made
 * through another instance can be seen here. Writes through this instance are seen at once.
 */
export class CachedConsentRegistry implements ConsentRegistry {
  private readonly entries = new Map<string, Entry>();
  private lastTicket = 0;

  constructor(
    private readonly registry: ConsentRegistry,
    private readonly clock: Clock,
    private readonly ttlMs: number = CONSENT_CACHE_TTL_MS,
    private readonly maxEntries: number = 200_000,
  ) {}

  async getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>> {
    const started = this.clock.now().getTime();
    const ticket = ++this.lastTicket;
    const found = new Map<string, ConsentRecord>();
    const toRead: string[] = [];
    for (const subject of new Set(subjects)) {
      const entry = this.entries.get(subject);
      if (entry === undefined || started - entry.asOf >= this.ttlMs) toRead.push(subject);
      else if (entry.record !== undefined) found.set(subject, entry.record);
    }
    if (toRead.length === 0) return found;
    const read = await this.registry.getMany(toRead);
    for (const subject of toRead) {
      const record = read.get(subject);
      if (record !== undefined) found.set(subject, record);
      // A write through this instance while the read was out is newer than what the read saw.
      const current = this.entries.get(subject);
      if (current === undefined || current.ticket < ticket) this.remember(subject, { record, asOf: started, ticket });
    }
    return found;
  }

  async put(record: ConsentRecord): Promise<void> {
    await this.registry.put(record);
    this.remember(record.subject, { record, asOf: this.clock.now().getTime(), ticket: ++this.lastTicket });
  }

  async remove(subject: string): Promise<boolean> {
    const removed = await this.registry.remove(subject);
    this.remember(subject, { record: undefined, asOf: this.clock.now().getTime(), ticket: ++this.lastTicket });
    return removed;
  }

  private remember(subject: string, entry: Entry): void {
    // Re-inserted so the map's order stays oldest-first, and the oldest go when it is full.
    this.entries.delete(subject);
    this.entries.set(subject, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
