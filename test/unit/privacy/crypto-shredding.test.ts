import { randomBytes } from 'node:crypto';
import { jsonLogger } from '../../../functions/adapters/log';
import { embeddedDatabase, type EmbeddedDatabase } from '../../../functions/adapters/pg/pglite-database';
import { EMBEDDED_MIGRATIONS_DIR, loadMigrations, migrate } from '../../../functions/adapters/pg/migrator';
import { SqlCheckpointStore } from '../../../functions/adapters/pg/sql-checkpoint-store';
import { SqlDeadLetterQueue } from '../../../functions/adapters/pg/sql-dead-letter-queue';
import { SqlEventStream } from '../../../functions/adapters/pg/sql-stream';
import { SqlRecordKeyStore } from '../../../functions/adapters/pg/sql-record-keys';
import { newRecordKey } from '../../../functions/adapters/record-key-material';
import type { StoredEvent } from '../../../functions/domain/events/schema';
import { makePseudonymiser } from '../../../functions/domain/privacy/pseudonymise';
import { IV_BYTES, openRecord, sealRecord, sealedHeader } from '../../../functions/domain/privacy/sealed-record';
import { makeAggregateHandler } from '../../../functions/handlers/aggregate';
import { ERASED_RECORDS_METRIC } from '../../../functions/handlers/kinesis-batch';
import { StreamPoller } from '../../../functions/local/stream-poller';
import { makeIngest } from '../../../functions/use-cases/ingest';
import { makeEvent } from '../../support/events';

const plaintext = new TextEncoder().encode('{"v":1,"type":"crisis.signal"}');

describe('sealed records', () => {
  it('open under their key only, and name the key in a header that is authenticated with them', () => {
    const key = newRecordKey();
    const sealed = sealRecord(key, plaintext, randomBytes(IV_BYTES));

    expect(sealedHeader(sealed)).toEqual({ sealed: true, keyId: key.keyId });
    expect(openRecord(sealed, key.key)).toEqual(Buffer.from(plaintext));
    expect(openRecord(sealed, newRecordKey().key)).toBeUndefined();
    const flipped = Uint8Array.from(sealed);
    flipped[sealed.length - 20]! ^= 1;
    expect(openRecord(flipped, key.key)).toBeUndefined();
    // Another key id written over the header: the tag no longer matches.
    const relabelled = Uint8Array.from(sealed);
    relabelled.set(Buffer.from(newRecordKey().keyId, 'hex'), 2);
    expect(openRecord(relabelled, key.key)).toBeUndefined();
    expect(openRecord(sealed.subarray(0, 40), key.key)).toBeUndefined();
  });

  it('are told apart from the plain JSON records an earlier version put on the stream', () => {
    expect(sealedHeader(plaintext)).toEqual({ sealed: false });
  });
});

describe('a record whose key was shredded', () => {
  let db: EmbeddedDatabase;

  beforeAll(async () => {
    db = await embeddedDatabase(undefined);
    await migrate(db, 'embedded', loadMigrations(EMBEDDED_MIGRATIONS_DIR));
  });

  afterAll(async () => {
    await db.close();
  });

  it('is skipped, acknowledged and counted by the consumer, never retried or dead-lettered; a tampered record still is', async () => {
    // Prepare: two users' events through ingest onto the stream, then one user's key deleted.
    const pepper = new Uint8Array(32).fill(9);
    const pseudonymise = { user: makePseudonymiser(pepper, 'user'), session: makePseudonymiser(pepper, 'session') };
    const stream = new SqlEventStream(db, { streamName: `shred-${randomBytes(4).toString('hex')}`, shardCount: 2 });
    const keys = new SqlRecordKeyStore(db);
    const allConsent = { getMany: async (subjects: readonly string[]) => new Map(subjects.map((subject) => [subject, { subject, scopes: { analytics: true, research: false, safety_monitoring: true }, updatedAt: '' }])) };
    const ingest = makeIngest({ stream, consent: allConsent, keys, pseudonymise, clock: { now: () => new Date() }, sleep: async () => undefined });
    const events = ['kept', 'erased', 'kept', 'erased'].map((userId) => makeEvent({ userId }, 'crisis.signal'));
    expect((await ingest(events)).accepted).toBe(4);
    const erasedKeyId = await keys.deleteKeyOf(pseudonymise.user('erased'));
    expect(erasedKeyId).toMatch(/^[0-9a-f]{32}$/);
    // A record of a live key with one byte changed: poison, as before sealing.
    const live = (await keys.keysFor([pseudonymise.user('kept')])).get(pseudonymise.user('kept'))!;
    const tampered = sealRecord(live, new TextEncoder().encode(JSON.stringify({ not: 'an event' })), randomBytes(IV_BYTES));
    tampered[tampered.length - 1]! ^= 1;
    await stream.putRecords([{ partitionKey: live.keyId, data: tampered }]);

    const applied: StoredEvent[] = [];
    const counted: [string, number, Readonly<Record<string, string>> | undefined][] = [];
    const deadLetters = new SqlDeadLetterQueue(db);
    const lettersBefore = (await deadLetters.list(1_000)).length;
    const logger = jsonLogger('test', 'silent');
    const poller = new StreamPoller({
      consumer: `aggregate-${randomBytes(4).toString('hex')}`,
      reader: stream,
      checkpoints: new SqlCheckpointStore(db),
      deadLetters,
      handler: makeAggregateHandler({
        aggregate: async (batch) => (applied.push(...batch), { applied: batch.length, duplicates: 0 }),
        logger,
        keys,
        metrics: { count: (name, value, dimensions) => void counted.push([name, value, dimensions]) },
      }),
      retryAttempts: 0,
      clock: { now: () => new Date() },
      sleep: async () => undefined,
      logger,
    });

    // Act
    await poller.drain();

    // Assess
    expect(applied.map((event) => event.subject)).toEqual([pseudonymise.user('kept'), pseudonymise.user('kept')]);
    const letters = (await deadLetters.list(1_000)).slice(lettersBefore);
    expect(letters.flatMap((letter) => letter.records.map((record) => record.partitionKey))).toEqual([live.keyId]);
    expect(counted.filter(([name]) => name === ERASED_RECORDS_METRIC).reduce((sum, [, value]) => sum + value, 0)).toBe(2);
    expect(counted.find(([name]) => name === ERASED_RECORDS_METRIC)?.[2]).toEqual({ consumer: 'aggregate' });
    // Acknowledged: a second drain finds nothing left to take.
    expect(await poller.pollOnce()).toBe(0);
  });
});
