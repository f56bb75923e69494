import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterHeading, DeadLetterQueue } from '../../ports';
import { peekQueue, sentAt } from './sqs-dead-letter-queue';

/** What Lambda sends to a Kinesis event source mapping's on-failure destination: a pointer to the batch, not its records. */
interface KinesisFailureRecord {
  readonly requestContext?: { readonly condition?: string; readonly approximateInvokeCount?: number };
  readonly responseContext?: { readonly functionError?: string };
  readonly timestamp?: string;
  readonly KinesisBatchInfo?: { readonly batchSize?: number };
}

/**
 * The stream consumers' dead letters in AWS, for the operations report: the records Lambda put on
 * each consumer's on-failure queue (lib/dead-letters.ts), read without consuming them. Locally the
 * runtime's own letters (SqsDeadLetterQueue) play this part.
 */
export class LambdaFailureRecords implements Pick<DeadLetterQueue, 'headings'> {
  constructor(
    private readonly client: SQSClient,
    /** Each consumer's on-failure queue URL, by consumer name (aggregate, detect). */
    private readonly queues: Readonly<Record<string, string>>,
  ) {}

  async headings(limit: number): Promise<DeadLetterHeading[]> {
    const headings: DeadLetterHeading[] = [];
    for (const [consumer, queueUrl] of Object.entries(this.queues)) {
      for (const message of await peekQueue(this.client, queueUrl, limit - headings.length)) {
        const record = JSON.parse(message.Body ?? '{}') as KinesisFailureRecord;
        headings.push({
          consumer,
          // RetryAttemptsExhausted, RecordAgeExceeded, ... and the function's error kind.
          reason: [record.requestContext?.condition, record.responseContext?.functionError].filter(Boolean).join(': ') || 'unknown',
          attempts: record.requestContext?.approximateInvokeCount ?? 0,
          records: record.KinesisBatchInfo?.batchSize ?? 0,
          sentAt: new Date(record.timestamp ?? sentAt(message)),
        });
      }
      if (headings.length >= limit) break;
    }
    return headings.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime());
  }
}
