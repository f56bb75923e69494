import { CreateTableCommand, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** BatchGetItem's limit per call. */
const BATCH_KEYS = 100;
/** Keys DynamoDB leaves unprocessed (throttling) are asked again, a few times, with backoff. */
const UNPROCESSED_ATTEMPTS = 5;

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The items of those keys that exist, strongly consistent (a deletion is seen by the next read
 * that reaches the table), 100 keys a call, unprocessed keys asked again with backoff.
 */
export async function batchGetConsistent(
  documents: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  sleep: Sleep,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += BATCH_KEYS) {
    let batch: Record<string, unknown>[] = keys.slice(start, start + BATCH_KEYS);
    for (let attempt = 0; batch.length > 0; attempt += 1) {
      if (attempt === UNPROCESSED_ATTEMPTS) throw new Error(`${tableName}: ${batch.length} keys still unprocessed after ${attempt} attempts`);
      if (attempt > 0) await sleep(25 * 2 ** attempt);
      const answer = await documents.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: batch, ConsistentRead: true } } }));
      items.push(...(answer.Responses?.[tableName] ?? []));
      batch = answer.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return items;
}

/** Creates a table keyed by one string attribute where the stack did not (the emulated mode against moto or LocalStack). */
export async function ensureTable(client: DynamoDBClient, tableName: string, keyAttribute: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: keyAttribute, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: keyAttribute, KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
}
