import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { RecordKey } from '../../domain/privacy/sealed-record';
import type { RecordKeyStore } from '../../ports/record-keys';
import { newRecordKey } from '../record-key-material';
import { batchGetConsistent, ensureTable, realSleep, type Sleep } from './dynamo-tables';

/**
 * The record keys in DynamoDB (table key `id`), two items per user written and deleted together:
 * `subject#<pseudonym>` holds the key and its id, for ingest and erasure, which know the user;
 * `key#<id>` holds the key alone, for the consumers, which know only a record's key id. Reads are
 * strongly consistent: a key is written before the first record sealed under it, so a consumer
 * that cannot find a key is reading an erased user's record, never a new one's.
 */
export class DynamoRecordKeyStore implements RecordKeyStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly sleep: Sleep = realSleep,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async keysFor(subjects: readonly string[]): Promise<Map<string, RecordKey>> {
    const unique = [...new Set(subjects)];
    const found = await this.read(unique);
    for (const subject of unique.filter((s) => !found.has(s))) {
      const made = newRecordKey();
      try {
        await this.documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.tableName, Item: { id: subjectId(subject), keyId: made.keyId, key: made.key }, ConditionExpression: 'attribute_not_exists(id)' } },
              { Put: { TableName: this.tableName, Item: { id: keyItemId(made.keyId), key: made.key } } },
            ],
          }),
        );
        found.set(subject, made);
      } catch (error) {
        // Another instance made the user's key first: theirs is the one.
        if (!(error instanceof Error && error.name === 'TransactionCanceledException')) throw error;
        const theirs = (await this.read([subject])).get(subject);
        if (!theirs) throw error;
        found.set(subject, theirs);
      }
    }
    return found;
  }

  async keysById(keyIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    const items = await batchGetConsistent(this.documents, this.tableName, [...new Set(keyIds)].map((keyId) => ({ id: keyItemId(keyId) })), this.sleep);
    return new Map(items.map((item) => [String(item['id']).slice(KEY_PREFIX.length), item['key'] as Uint8Array]));
  }

  async deleteKeyOf(subject: string): Promise<string | undefined> {
    // A batch read (of one), so the function needs no GetItem beyond the BatchGetItem it has.
    const keyId = (await this.read([subject])).get(subject)?.keyId;
    if (keyId === undefined) return undefined;
    await this.documents.send(
      new TransactWriteCommand({
        TransactItems: [{ Delete: { TableName: this.tableName, Key: { id: subjectId(subject) } } }, { Delete: { TableName: this.tableName, Key: { id: keyItemId(keyId) } } }],
      }),
    );
    return keyId;
  }

  private async read(subjects: readonly string[]): Promise<Map<string, RecordKey>> {
    const items = await batchGetConsistent(this.documents, this.tableName, subjects.map((subject) => ({ id: subjectId(subject) })), this.sleep);
    return new Map(items.map((item) => [String(item['id']).slice(SUBJECT_PREFIX.length), { keyId: String(item['keyId']), key: item['key'] as Uint8Array }]));
  }
}

const SUBJECT_PREFIX = 'subject#';
const KEY_PREFIX = 'key#';
const subjectId = (subject: string) => `${SUBJECT_PREFIX}${subject}`;
const keyItemId = (keyId: string) => `${KEY_PREFIX}${keyId}`;

/** Creates the table where the stack did not (the emulated mode against moto or LocalStack). */
export function ensureRecordKeyTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return ensureTable(client, tableName, 'id');
}
