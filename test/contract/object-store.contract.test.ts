import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { s3Client } from '../../functions/adapters/aws/clients';
import { S3ObjectStore, ensureBucket } from '../../functions/adapters/aws/s3-object-store';
import { FileObjectStore } from '../../functions/adapters/local/file-object-store';
import type { ObjectStore } from '../../functions/ports';
import { describeWithServices, urls } from '../support/services';

function objectStoreContract(open: () => Promise<{ store: ObjectStore; close(): Promise<void> }>): void {
  let fixture: { store: ObjectStore; close(): Promise<void> };
  let store: ObjectStore;

  beforeEach(async () => {
    fixture = await open();
    store = fixture.store;
  });
  afterEach(async () => {
    await fixture.close();
  });

  it('answers an object as it was put, with its content type, and a later put replaces it', async () => {
    await store.put('reports/research/a.csv', 'metric,count\nevents,12\n', 'text/csv');
    await store.put('reports/research/b.csv', 'first', 'text/csv');
    await store.put('reports/research/b.csv', 'second, ünïcode', 'text/plain');

    expect(await store.get('reports/research/a.csv')).toEqual({ body: 'metric,count\nevents,12\n', contentType: 'text/csv' });
    expect(await store.get('reports/research/b.csv')).toEqual({ body: 'second, ünïcode', contentType: 'text/plain' });
  });

  it('answers undefined for a key it does not hold, and for one it deleted', async () => {
    await store.put('reports/research/gone.csv', 'x', 'text/csv');
    await store.delete('reports/research/gone.csv');
    await store.delete('reports/research/never-there.csv');

    expect(await store.get('reports/research/missing.csv')).toBeUndefined();
    expect(await store.get('reports/research/gone.csv')).toBeUndefined();
  });
}

describe('object store contract: files (embedded)', () => {
  objectStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'objects-'));
    return { store: new FileObjectStore(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
  });

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
  });
});
