import { CONSENT_CACHE_TTL_MS } from '../domain/privacy/consent';
import type { RecordKey } from '../domain/privacy/sealed-record';
import type { Clock } from '../ports';
import type { RecordKeyStore } from '../ports/record-keys';

/**
 * Ingest's keys behind a per-instance cache, so a request costs a key store round trip only for
 * users not seen lately. An erasure through this instance drops the key at once. One through
 * another instance is seen within `ttlMs` (the consent cache's bound, by which time that
 * instance also refuses the user's events); until then a record sealed under the deleted key is
 * one no consumer can open, so it is erased as it arrives. The cache is memory only: nothing of
 * it reaches a file.
 */
export class CachedRecordKeys implements RecordKeyStore {
  private readonly entries = new Map<string, { readonly key: RecordKey; readonly asOf: number }>();

  constructor(
    private readonly store: RecordKeyStore,
    private readonly clock: Clock,
    private readonly ttlMs: number = CONSENT_CACHE_TTL_MS,
    private readonly maxEntries: number = 200_000,
  ) {}

  async keysFor(subjects: readonly string[]): Promise<Map<string, RecordKey>> {
    const now = this.clock.now().getTime();
    const found = new Map<string, RecordKey>();
    const toRead: string[] = [];
    for (const subject of new Set(subjects)) {
      const entry = this.entries.get(subject);
      if (entry !== undefined && now - entry.asOf < this.ttlMs) found.set(subject, entry.key);
      else toRead.push(subject);
    }
    if (toRead.length === 0) return found;
    for (const [subject, key] of await this.store.keysFor(toRead)) {
      found.set(subject, key);
      this.entries.delete(subject);
      this.entries.set(subject, { key, asOf: now });
    }
    // Oldest first: the map keeps insertion order.
    for (const subject of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(subject);
    }
    return found;
  }

  keysById(keyIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    return this.store.keysById(keyIds);
  }

  async deleteKeyOf(subject: string): Promise<string | undefined> {
    this.entries.delete(subject);
    return this.store.deleteKeyOf(subject);
  }
}
