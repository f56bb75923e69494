import { CachedConsentRegistry } from '../../../functions/adapters/cached-consent-registry';
import { CONSENT_CACHE_TTL_MS, type ConsentRecord } from '../../../functions/domain/privacy/consent';
import type { ConsentRegistry } from '../../../functions/ports/consent';

/** The registry both instances share (DynamoDB's part), counting its reads. */
class SharedRegistry implements ConsentRegistry {
  readonly records = new Map<string, ConsentRecord>();
  reads = 0;
  async put(record: ConsentRecord): Promise<void> {
    this.records.set(record.subject, record);
  }
  async getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>> {
    this.reads += 1;
    return new Map(subjects.flatMap((subject) => (this.records.has(subject) ? [[subject, this.records.get(subject)!] as const] : [])));
  }
  async remove(subject: string): Promise<boolean> {
    return this.records.delete(subject);
  }
}

const granted = (analytics: boolean): ConsentRecord => ({ subject: 's1', scopes: { analytics, research: false, safety_monitoring: true }, updatedAt: '' });

describe('consent cache', () => {
  let now = 0;
  const clock = { now: () => new Date(now) };
  let shared: SharedRegistry;

  beforeEach(() => {
    now = Date.parse('2026-11-20T10:00:00Z');
    shared = new SharedRegistry();
  });

  it('sees a withdrawal made through another instance within 60 seconds, however often it was read', async () => {
    const ingestInstance = new CachedConsentRegistry(shared, clock);
    const privacyInstance = new CachedConsentRegistry(shared, clock);
    await privacyInstance.put(granted(true));
    expect((await ingestInstance.getMany(['s1'])).get('s1')?.scopes.analytics).toBe(true);

    await privacyInstance.put(granted(false));
    const seenAt: number[] = [];
    for (let elapsed = 0; elapsed <= 60_000; elapsed += 1_000) {
      now += 1_000;
      if ((await ingestInstance.getMany(['s1'])).get('s1')?.scopes.analytics === false) seenAt.push(elapsed + 1_000);
    }

    expect(seenAt[0]).toBeLessThanOrEqual(CONSENT_CACHE_TTL_MS);
    expect(CONSENT_CACHE_TTL_MS).toBeLessThanOrEqual(60_000);
    expect(seenAt).toHaveLength(61 - seenAt[0]! / 1_000 + 1);
  });

  it('sees a change made through itself at once', async () => {
    const instance = new CachedConsentRegistry(shared, clock);
    await instance.put(granted(true));
    expect((await instance.getMany(['s1'])).get('s1')?.scopes.analytics).toBe(true);

    await instance.put(granted(false));
    expect((await instance.getMany(['s1'])).get('s1')?.scopes.analytics).toBe(false);
    await instance.remove('s1');
    expect(await instance.getMany(['s1'])).toEqual(new Map());
  });

  it('reads the registry once for many lookups within the time to live, and again after it', async () => {
    const instance = new CachedConsentRegistry(shared, clock);
    await shared.put(granted(true));

    for (let i = 0; i < 5; i += 1) await instance.getMany(['s1', 'unknown']);
    now += CONSENT_CACHE_TTL_MS;
    await instance.getMany(['s1', 'unknown']);

    expect(shared.reads).toBe(2);
  });

  it('does not let a read that started before a write overwrite what the write cached', async () => {
    let release: () => void = () => undefined;
    const slow: ConsentRegistry = {
      ...shared,
      put: (record) => shared.put(record),
      remove: (subject) => shared.remove(subject),
      getMany: async (subjects) => {
        const answer = await shared.getMany(subjects);
        await new Promise<void>((resolve) => (release = resolve));
        return answer;
      },
    };
    await shared.put(granted(true));
    const instance = new CachedConsentRegistry(slow, clock);

    const staleRead = instance.getMany(['s1']);
    await new Promise((resolve) => setImmediate(resolve));
    await instance.put(granted(false));
    release();
    await staleRead;

    expect((await instance.getMany(['s1'])).get('s1')?.scopes.analytics).toBe(false);
  });

  it('keeps at most its limit of entries, dropping the oldest', async () => {
    const instance = new CachedConsentRegistry(shared, clock, CONSENT_CACHE_TTL_MS, 2);
    await instance.getMany(['a', 'b', 'c']);
    const before = shared.reads;

    await instance.getMany(['b', 'c']);
    await instance.getMany(['a']);

    expect(shared.reads - before).toBe(1);
  });
});
