import { CachedRecordKeys } from '../../../functions/adapters/cached-record-keys';
import { CONSENT_CACHE_TTL_MS } from '../../../functions/domain/privacy/consent';
import type { RecordKeyStore } from '../../../functions/ports/record-keys';
import { MemoryRecordKeys } from '../../support/record-keys';

describe("ingest's record key cache", () => {
  it('asks the store only for users it has not seen within the consent TTL', async () => {
    const store = new MemoryRecordKeys();
    const asked: string[][] = [];
    const counting: RecordKeyStore = {
      keysFor: (subjects) => (asked.push([...subjects]), store.keysFor(subjects)),
      keysById: (keyIds) => store.keysById(keyIds),
      deleteKeyOf: (subject) => store.deleteKeyOf(subject),
    };
    let now = 0;
    const cache = new CachedRecordKeys(counting, { now: () => new Date(now) });

    await cache.keysFor(['a', 'b']);
    await cache.keysFor(['a', 'b', 'c']);
    now = CONSENT_CACHE_TTL_MS;
    await cache.keysFor(['a']);

    expect(asked).toEqual([['a', 'b'], ['c'], ['a']]);
  });

  it('sees a key erased through another instance once the TTL has run, by when consent refuses the user anyway', async () => {
    const store = new MemoryRecordKeys();
    let now = 0;
    const cache = new CachedRecordKeys(store, { now: () => new Date(now) });
    const before = (await cache.keysFor(['a'])).get('a')!.keyId;

    await store.deleteKeyOf('a');
    now = CONSENT_CACHE_TTL_MS - 1;
    const stale = (await cache.keysFor(['a'])).get('a')!.keyId;
    now = CONSENT_CACHE_TTL_MS;
    const fresh = (await cache.keysFor(['a'])).get('a')!.keyId;

    expect(stale).toBe(before);
    // The stale key opens nothing any more: what was sealed under it meanwhile is erased as it arrives.
    expect(await store.keysById([stale])).toEqual(new Map());
    expect(fresh).not.toBe(before);
  });

  it('keeps at most its bound of entries, dropping the oldest', async () => {
    const store = new MemoryRecordKeys();
    const cache = new CachedRecordKeys(store, { now: () => new Date(0) }, CONSENT_CACHE_TTL_MS, 2);
    const first = (await cache.keysFor(['a'])).get('a')!.keyId;
    await cache.keysFor(['b', 'c']);

    await store.deleteKeyOf('a');

    // 'a' was dropped from the cache, so it is read again (and made anew).
    expect((await cache.keysFor(['a'])).get('a')!.keyId).not.toBe(first);
  });
});
