import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { s3Client } from '../../functions/adapters/aws/clients';
import { S3ObjectStore, ensureBucket } from '../../functions/adapters/aws/s3-object-store';
import { FileObjectStore } from '../../functions/adapters/local/file-object-store';
import { ObjectExistsError, type ObjectStore } from '../../functions/ports';
import { describeWithServices, urls } from '../support/services';

/**
 * `fetchesLinks`: a link can be fetched here. The file store's links are served by the local
 * runtime's HTTP server, so its links are tested through the runtime.
 * `racesAtomically`: the backend decides a conditional write atomically, so writers racing for a
 * key can be tested. S3 does; moto (5.2.1, `s3/responses.py`) looks for the key and then writes
 * it, in a server that answers requests on threads, so two racing writers now and then both find
 * the key free (a fresh-clone run saw writers 0 and 1 both win). On moto putNew's refusal is tested
 * one writer after another.
 */
function objectStoreContract(
  open: () => Promise<{ store: ObjectStore; close(): Promise<void> }>,
  { fetchesLinks, racesAtomically }: { fetchesLinks: boolean; racesAtomically: boolean },
): void {
  let fixture: { store: ObjectStore; close(): Promise<void> };
  let store: ObjectStore;

  beforeEach(async () => {
    fixture = await open();
    store = fixture.store;
  });
  afterEach(async () => {
    await fixture.close();
  });

  const read = async (key: string) => {
    const object = await store.get(key);
    return object && { text: object.body.toString('utf8'), contentType: object.contentType };
  };

  it('answers an object as it was put, with its content type, and a later put replaces it', async () => {
    await store.put('reports/research/a.csv', 'metric,count\nevents,12\n', 'text/csv');
    await store.put('reports/research/b.csv', 'first', 'text/csv');
    await store.put('reports/research/b.csv', 'second, ünïcode', 'text/plain');

    expect(await read('reports/research/a.csv')).toEqual({ text: 'metric,count\nevents,12\n', contentType: 'text/csv' });
    expect(await read('reports/research/b.csv')).toEqual({ text: 'second, ünïcode', contentType: 'text/plain' });
  });

  it('answers undefined for a key it does not hold, and for one it deleted', async () => {
    await store.put('reports/research/gone.csv', 'x', 'text/csv');
    await store.delete('reports/research/gone.csv');
    await store.delete('reports/research/never-there.csv');

    expect(await store.get('reports/research/missing.csv')).toBeUndefined();
    expect(await store.get('reports/research/gone.csv')).toBeUndefined();
  });

  // Every byte value, and a PDF's header: a text decoding on the way in or out would mangle them.
  const binary = Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), Buffer.from(Array.from({ length: 256 }, (_, byte) => byte))]);

  it('answers the bytes of a binary object as a Buffer, exactly as they were put', async () => {
    await store.put('reports/outcomes/2027-03/v1.pdf', new Uint8Array(binary), 'application/pdf');

    const object = await store.get('reports/outcomes/2027-03/v1.pdf');

    expect(Buffer.isBuffer(object?.body)).toBe(true);
    expect(object?.body.equals(binary)).toBe(true);
    expect(object?.contentType).toBe('application/pdf');
  });

  it('writes a new key with putNew, and refuses a taken one with ObjectExistsError, keeping the first object', async () => {
    await store.putNew('reports/outcomes/2027-03/v1.csv', 'first', 'text/csv');

    const again = store.putNew('reports/outcomes/2027-03/v1.csv', 'second', 'text/csv');

    await expect(again).rejects.toThrow(ObjectExistsError);
    await expect(again).rejects.toMatchObject({ key: 'reports/outcomes/2027-03/v1.csv' });
    expect(await read('reports/outcomes/2027-03/v1.csv')).toEqual({ text: 'first', contentType: 'text/csv' });
  });

  if (racesAtomically) {
    it('lets one of several putNew calls racing for one key win, and refuses the others', async () => {
      const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, writer) => store.putNew('reports/operations/2027-W12/v1.csv', `writer ${writer}`, 'text/csv')));

      const won = attempts.flatMap((attempt, writer) => (attempt.status === 'fulfilled' ? [writer] : []));
      expect(won).toHaveLength(1);
      expect(attempts.filter((attempt) => attempt.status === 'rejected').map((attempt) => attempt.reason)).toEqual(
        Array.from({ length: 5 }, () => expect.any(ObjectExistsError)),
      );
      expect(await read('reports/operations/2027-W12/v1.csv')).toEqual({ text: `writer ${won[0]}`, contentType: 'text/csv' });
    });
  }

  if (!fetchesLinks) return;

  it('gives a link that reads the object without credentials, and says when it expires', async () => {
    await store.put('reports/outcomes/2027-03/v2.pdf', binary, 'application/pdf');
    const before = Date.now();

    const { url, expiresAt } = await store.link('reports/outcomes/2027-03/v2.pdf', 900);
    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(binary)).toBe(true);
    expect(Date.parse(expiresAt) - before).toBeGreaterThanOrEqual(899_000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(900_000);
  });
}

describe('object store contract: files (embedded)', () => {
  objectStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'objects-'));
    return { store: new FileObjectStore(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
  }, { fetchesLinks: false, racesAtomically: true });

  it('refuses a key that would leave its folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'objects-'));
    try {
      await expect(new FileObjectStore(dir).put('../escape.csv', 'x', 'text/csv')).rejects.toThrow(RangeError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServices(['moto'], 'object store contract: S3 (moto)', () => {
  objectStoreContract(async () => {
    const client = s3Client({ endpoint: urls.moto });
    const bucket = `reports-${randomBytes(4).toString('hex')}`;
    await ensureBucket(client, bucket);
    return { store: new S3ObjectStore(client, bucket), close: async () => client.destroy() };
  }, { fetchesLinks: true, racesAtomically: false });
});
