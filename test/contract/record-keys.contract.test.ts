import { randomBytes } from 'node:crypto';
import { dynamoDbClient } from '../../functions/adapters/aws/clients';
import { DynamoRecordKeyStore, ensureRecordKeyTable } from '../../functions/adapters/aws/dynamo-record-keys';
import { CachedRecordKeys } from '../../functions/adapters/cached-record-keys';
import { postgresDatabase, type SqlDatabase } from '../../functions/adapters/pg/database';
import { embeddedDatabase } from '../../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../functions/adapters/pg/migrator';
import { SqlRecordKeyStore } from '../../functions/adapters/pg/sql-record-keys';
import type { RecordKeyStore } from '../../functions/ports/record-keys';
import { describeWithServices, freshPostgresUrl, urls } from '../support/services';

interface KeyStoreFixture {
  readonly store: RecordKeyStore;
  close(): Promise<void>;
}

const subject = () => randomBytes(32).toString('hex');

function recordKeyStoreContract(open: () => Promise<KeyStoreFixture>): void {
  let fixture: KeyStoreFixture;

  beforeAll(async () => {
    fixture = await open();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('makes one random 256-bit key per subject, with a random id that is not the pseudonym, and answers the same key after', async () => {
    const [a, b] = [subject(), subject()];

    const first = await fixture.store.keysFor([a, b, a]);
    const again = await fixture.store.keysFor([a]);

    expect([...first.keys()].sort()).toEqual([a, b].sort());
    expect(first.get(a)!.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.get(a)!.keyId).not.toBe(first.get(b)!.keyId);
    expect(a).not.toContain(first.get(a)!.keyId);
    expect(Buffer.from(first.get(a)!.key)).toHaveLength(32);
    expect(Buffer.from(first.get(a)!.key)).not.toEqual(Buffer.from(first.get(b)!.key));
    expect(again.get(a)!.keyId).toBe(first.get(a)!.keyId);
    expect(Buffer.from(again.get(a)!.key)).toEqual(Buffer.from(first.get(a)!.key));
  });

  it('gives every concurrent caller the same key for a new subject', async () => {
    const s = subject();

    const answers = await Promise.all(Array.from({ length: 5 }, () => fixture.store.keysFor([s])));

    expect(new Set(answers.map((answer) => answer.get(s)!.keyId)).size).toBe(1);
  });

  it('finds keys by id for the consumers, and nothing for ids it does not hold', async () => {
    const s = subject();
    const { keyId, key } = (await fixture.store.keysFor([s])).get(s)!;

    const found = await fixture.store.keysById([keyId, randomBytes(16).toString('hex'), keyId]);

    expect([...found.keys()]).toEqual([keyId]);
    expect(Buffer.from(found.get(keyId)!)).toEqual(Buffer.from(key));
  });

  it('deletes a subject\'s key for erasure, answering its id: the id then finds nothing, and a later event gets a new key', async () => {
    const s = subject();
    const { keyId } = (await fixture.store.keysFor([s])).get(s)!;

    expect(await fixture.store.deleteKeyOf(s)).toBe(keyId);
    expect(await fixture.store.deleteKeyOf(s)).toBeUndefined();
    expect(await fixture.store.keysById([keyId])).toEqual(new Map());
    expect((await fixture.store.keysFor([s])).get(s)!.keyId).not.toBe(keyId);
  });

  it('serves many subjects at once (more than one batch read)', async () => {
    const subjects = Array.from({ length: 230 }, subject);

    const keys = await fixture.store.keysFor(subjects);
    const byId = await fixture.store.keysById([...keys.values()].map((key) => key.keyId));

    expect(keys.size).toBe(230);
    expect(byId.size).toBe(230);
  });

  it('behind the ingest cache, drops a key at once when erased through it', async () => {
    const cached = new CachedRecordKeys(fixture.store, { now: () => new Date() });
    const s = subject();
    const before = (await cached.keysFor([s])).get(s)!.keyId;

    await cached.deleteKeyOf(s);

    expect((await cached.keysFor([s])).get(s)!.keyId).not.toBe(before);
  });
}

function sqlFixture(connect: () => Promise<{ db: SqlDatabase; drop: () => Promise<void> }>): () => Promise<KeyStoreFixture> {
  return async () => {
    const connected = await connect();
    await migrate(connected.db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
    return { store: new SqlRecordKeyStore(connected.db), close: () => connected.drop() };
  };
}

describe('record key store contract: PGlite (embedded)', () => {
  recordKeyStoreContract(
    sqlFixture(async () => {
      const db = await embeddedDatabase(undefined);
      return { db, drop: () => db.close() };
    }),
  );
});

describeWithServices(['postgres'], 'record key store contract: PostgreSQL', () => {
  recordKeyStoreContract(
    sqlFixture(async () => {
      const postgres = await freshPostgresUrl();
      const db = postgresDatabase(postgres.url, { max: 4 });
      return {
        db,
        async drop() {
          await db.close();
          await postgres.drop();
        },
      };
    }),
  );
});

describeWithServices(['moto'], 'record key store contract: DynamoDB (moto)', () => {
  recordKeyStoreContract(async () => {
    const client = dynamoDbClient({ endpoint: urls.moto });
    const tableName = `record-keys-${randomBytes(4).toString('hex')}`;
    await ensureRecordKeyTable(client, tableName);
    return {
      store: new DynamoRecordKeyStore(client, tableName),
      async close() {
        client.destroy();
      },
    };
  });
});
