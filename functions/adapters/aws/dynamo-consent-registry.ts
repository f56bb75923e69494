import { CreateTableCommand, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CONSENT_SCOPES, type ConsentRecord } from '../../domain/privacy/consent';
import type { ConsentRegistry } from '../../ports/consent';

/** BatchGetItem's limit per call. */
const BATCH_KEYS = 100;
/** Keys DynamoDB leaves unprocessed (throttling) are asked again, a few times, with backoff. */
const UNPROCESSED_ATTEMPTS = 5;

interface ConsentItem {
  readonly subject: string;
  readonly analytics: boolean;
  readonly research: boolean;
  readonly safety_monitoring: boolean;
  readonly updatedAt: string;
}

const toItem = (record: ConsentRecord): ConsentItem => ({ subject: record.subject, ...record.scopes, updatedAt: record.updatedAt });

function toRecord(item: Record<string, unknown>): ConsentRecord {
  const scopes = Object.fromEntries(CONSENT_SCOPES.map((scope) => [scope, item[scope] === true])) as ConsentRecord['scopes'];
  return { subject: String(item['subject']), scopes, updatedAt: String(item['updatedAt']) };
}

/** The consent registry in DynamoDB: one item per pseudonymous subject (table key `subject`). */
export class DynamoConsentRegistry implements ConsentRegistry {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async put(record: ConsentRecord): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: toItem(record) }));
  }

  async getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>> {
    const found = new Map<string, ConsentRecord>();
    const unique = [...new Set(subjects)];
    for (let start = 0; start < unique.length; start += BATCH_KEYS) {
      let keys: Record<string, unknown>[] = unique.slice(start, start + BATCH_KEYS).map((subject) => ({ subject }));
      for (let attempt = 0; keys.length > 0; attempt += 1) {
        if (attempt === UNPROCESSED_ATTEMPTS) throw new Error(`consent registry: ${keys.length} keys still unprocessed after ${attempt} attempts`);
        if (attempt > 0) await this.sleep(25 * 2 ** attempt);
        // Strongly consistent, so a withdrawal is seen by the next read that reaches the table.
        const answer = await this.documents.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of answer.Responses?.[this.tableName] ?? []) found.set(String(item['subject']), toRecord(item));
        keys = answer.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  async remove(subject: string): Promise<boolean> {
    const answer = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { subject }, ReturnValues: 'ALL_OLD' }));
    return answer.Attributes !== undefined;
  }
}

/** Creates the table where the stack did not (the emulated mode against moto or LocalStack). */
export async function ensureConsentTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'subject', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'subject', KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
}
