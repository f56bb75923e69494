import { GENESIS_HASH, canonicalJson, chainHash, verifyChain, type StoredAuditEntry } from '../../../functions/domain/privacy/audit';

function chain(count: number, anchor = { seq: 0, hash: GENESIS_HASH }): StoredAuditEntry[] {
  const entries: StoredAuditEntry[] = [];
  let prevHash = anchor.hash;
  for (let seq = anchor.seq + 1; seq <= anchor.seq + count; seq += 1) {
    const body = canonicalJson({ at: `2026-11-20T10:00:0${seq % 10}.000Z`, actor: 'a', role: 'analyst', action: 'read', resource: 'r', purpose: 'p', details: { n: seq } });
    const hash = chainHash(prevHash, seq, body);
    entries.push({ seq, body, prevHash, hash });
    prevHash = hash;
  }
  return entries;
}

const endsOf = (entries: StoredAuditEntry[], anchor = { seq: 0, hash: GENESIS_HASH }) => {
  const last = entries[entries.length - 1];
  return { anchor, head: last ? { seq: last.seq, hash: last.hash } : anchor };
};

describe('the audit hash chain', () => {
  it('writes canonical JSON: keys sorted at every depth, undefined left out', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[2,{"y":null,"z":1}]},"b":1}');
  });

  it('verifies an untouched chain, an empty one, and one that starts at a purge anchor', async () => {
    const entries = chain(5);
    const anchor = { seq: entries[1]!.seq, hash: entries[1]!.hash };

    expect(await verifyChain(entries, endsOf(entries))).toEqual({ ok: true, entries: 5 });
    expect(await verifyChain([], endsOf([]))).toEqual({ ok: true, entries: 0 });
    expect(await verifyChain(entries.slice(2), endsOf(entries.slice(2), anchor))).toEqual({ ok: true, entries: 3 });
  });

  it('catches a changed entry at that entry', async () => {
    const entries = chain(5);
    const ends = endsOf(entries);
    entries[2] = { ...entries[2]!, body: entries[2]!.body.replace('"analyst"', '"admin"') };

    expect(await verifyChain(entries, ends)).toMatchObject({ ok: false, seq: 3, problem: expect.stringContaining('changed') });
  });

  it('catches a changed entry whose hash was recomputed, at the entry after it', async () => {
    const entries = chain(5);
    const ends = endsOf(entries);
    const body = entries[2]!.body.replace('"analyst"', '"admin"');
    entries[2] = { ...entries[2]!, body, hash: chainHash(entries[2]!.prevHash, 3, body) };

    expect(await verifyChain(entries, ends)).toMatchObject({ ok: false, seq: 4 });
  });

  it('catches a removed entry, two swapped entries and a cut tail', async () => {
    const entries = chain(6);
    const ends = endsOf(entries);
    const swapped = [...entries];
    [swapped[2], swapped[3]] = [{ ...entries[3]!, seq: 3 }, { ...entries[2]!, seq: 4 }];

    expect(await verifyChain([...entries.slice(0, 2), ...entries.slice(3)], ends)).toMatchObject({ ok: false, seq: 4 });
    expect(await verifyChain(swapped, ends)).toMatchObject({ ok: false, seq: 3 });
    expect(await verifyChain(entries.slice(0, 4), ends)).toMatchObject({ ok: false, problem: expect.stringContaining('cut from the end') });
  });
});
