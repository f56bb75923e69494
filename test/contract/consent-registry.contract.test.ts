import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dynamoDbClient } from '../../functions/adapters/aws/clients';
import { DynamoConsentRegistry, ensureConsentTable } from '../../functions/adapters/aws/dynamo-consent-registry';
import { LmdbConsentRegistry } from '../../functions/adapters/local/lmdb-consent-registry';
import type { ConsentRecord } from '../../functions/domain/privacy/consent';
import type { ConsentRegistry } from '../../functions/ports/consent';
import { describeWithServices, urls } from '../support/services';
import { filesHolding } from '../support/store-dump';

interface RegistryFixture {
  readonly registry: ConsentRegistry;
  close(): Promise<void>;
}

const record = (subject: string, analytics: boolean, updatedAt = '2026-11-20T10:00:00.000Z'): ConsentRecord => ({
  subject,
  scopes: { analytics, research: !analytics, safety_monitoring: true },
  updatedAt,
});

function consentRegistryContract(open: () => Promise<RegistryFixture>): void {
  let fixture: RegistryFixture;

  beforeEach(async () => {
    fixture = await open();
  });
  afterEach(async () => {
    await fixture.close();
  });

  it('answers nothing for subjects it has no record of', async () => {
    expect(await fixture.registry.getMany(['a', 'b'])).toEqual(new Map());
  });

  it('keeps each scope of a record as put, and a later put replaces it', async () => {
    await fixture.registry.put(record('subject-1', true));
    await fixture.registry.put(record('subject-2', true));
    await fixture.registry.put(record('subject-1', false, '2026-11-21T10:00:00.000Z'));

    const found = await fixture.registry.getMany(['subject-1', 'subject-2', 'subject-3', 'subject-1']);

    expect(found).toEqual(
      new Map([
        ['subject-1', record('subject-1', false, '2026-11-21T10:00:00.000Z')],
        ['subject-2', record('subject-2', true)],
      ]),
    );
  });

  it('reads more subjects than one batch lookup takes', async () => {
    const subjects = Array.from({ length: 230 }, (_, index) => `subject-${index}`);
    for (const subject of subjects.filter((_, index) => index % 3 === 0)) await fixture.registry.put(record(subject, true));

    const found = await fixture.registry.getMany(subjects);

    expect([...found.keys()].sort()).toEqual(subjects.filter((_, index) => index % 3 === 0).sort());
  });

  it('removes a record, and says whether there was one', async () => {
    await fixture.registry.put(record('subject-1', true));

    expect(await fixture.registry.remove('subject-1')).toBe(true);
    expect(await fixture.registry.remove('subject-1')).toBe(false);
    expect(await fixture.registry.getMany(['subject-1'])).toEqual(new Map());
  });
}

describe('consent registry contract: LMDB (embedded)', () => {
  consentRegistryContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'consent-'));
    const registry = LmdbConsentRegistry.open(dir);
    return {
      registry,
      async close() {
        await registry.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  it('scrubs: no removed pseudonym stays in any byte of its folder, the live records and later writes carry on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'consent-'));
    const registry = LmdbConsentRegistry.open(dir);
    try {
      const subjects = Array.from({ length: 300 }, () => randomBytes(32).toString('hex'));
      for (const subject of subjects) await registry.put(record(subject, true));
      const removed = [subjects[0]!, subjects[150]!, subjects[299]!];
      for (const subject of removed) await registry.remove(subject);
      // What LMDB leaves behind: the removed records' bytes in freed and live pages.
      expect(filesHolding(dir, removed.map((subject) => Buffer.from(subject)))).toEqual(['data.mdb']);

      // Reads during the scrub wait for the new file instead of failing.
      const [, during] = await Promise.all([registry.scrub(), registry.getMany([subjects[1]!])]);

      expect(during.size).toBe(1);
      expect(filesHolding(dir, removed.map((subject) => Buffer.from(subject)))).toEqual([]);
      // The new file was written beside the registry's folder; nothing of it is left there.
      expect(existsSync(`${dir}-rewrite`)).toBe(false);
      const kept = subjects.filter((subject) => !removed.includes(subject));
      expect([...(await registry.getMany(subjects)).keys()].sort()).toEqual([...kept].sort());
      await registry.put(record('after-scrub', false));
      expect((await registry.getMany(['after-scrub'])).get('after-scrub')).toEqual(record('after-scrub', false));
    } finally {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps its records across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'consent-'));
    try {
      const first = LmdbConsentRegistry.open(dir);
      await first.put(record('subject-1', true));
      await first.close();
      const second = LmdbConsentRegistry.open(dir);
      expect(await second.getMany(['subject-1'])).toEqual(new Map([['subject-1', record('subject-1', true)]]));
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServices(['moto'], 'consent registry contract: DynamoDB (moto)', () => {
  consentRegistryContract(async () => {
    const client = dynamoDbClient({ endpoint: urls.moto });
    const tableName = `consent-${randomBytes(4).toString('hex')}`;
    await ensureConsentTable(client, tableName);
    return {
      registry: new DynamoConsentRegistry(client, tableName),
      async close() {
        client.destroy();
      },
    };
  });
});
