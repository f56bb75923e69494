import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CONSENT_SCOPES, type ConsentRecord } from '../../domain/privacy/consent';
import type { ConsentRegistry } from '../../ports/consent';
import { batchGetConsistent, ensureTable, realSleep, type Sleep } from './dynamo-tables';

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
    private readonly sleep: Sleep = realSleep,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async put(record: ConsentRecord): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: toItem(record) }));
  }

  async getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>> {
    // Strongly consistent, so a withdrawal is seen by the next read that reaches the table.
    const items = await batchGetConsistent(this.documents, this.tableName, [...new Set(subjects)].map((subject) => ({ subject })), this.sleep);
    return new Map(items.map((item) => [String(item['subject']), toRecord(item)]));
  }

  async remove(subject: string): Promise<boolean> {
    const answer = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { subject }, ReturnValues: 'ALL_OLD' }));
    return answer.Attributes !== undefined;
  }
}

/** Creates the table where the stack did not (the emulated mode against moto or LocalStack). */
export function ensureConsentTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return ensureTable(client, tableName, 'subject');
}
