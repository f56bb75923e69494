import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterHeading, DeadLetterQueue } from '../../ports';

const MAX_MESSAGES_PER_RECEIVE = 10;
// Long enough to page past the messages already seen, short enough that a crash mid-list
// leaves them hidden only briefly.
const PEEK_VISIBILITY_SECONDS = 30;

/** The stream consumers' on-failure destination on SQS. */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly options: { readonly waitTimeSeconds?: number } = {},
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(letter) }));
  }

  async list(limit: number): Promise<DeadLetter[]> {
    return (await this.peek(limit)).map((message) => JSON.parse(message.Body ?? '{}') as DeadLetter);
  }

  async headings(limit: number): Promise<DeadLetterHeading[]> {
    return (await this.peek(limit)).map((message) => {
      const letter = JSON.parse(message.Body ?? '{}') as DeadLetter;
      return { consumer: letter.consumer, reason: letter.reason, attempts: letter.attempts, records: letter.records.length, sentAt: new Date(sentAt(message)) };
    });
  }

  private peek(limit: number): Promise<Message[]> {
    return peekQueue(this.client, this.queueUrl, limit, this.options.waitTimeSeconds);
  }
}

/**
 * A queue's messages, oldest first, without consuming them. A receive with visibility 0 would
 * answer the same ten messages again and again, so each page is hidden while paging and made
 * visible again at the end.
 */
export async function peekQueue(client: SQSClient, queueUrl: string, limit: number, waitTimeSeconds = 1): Promise<Message[]> {
  const seen = new Map<string, Message>();
  try {
    while (seen.size < limit) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(MAX_MESSAGES_PER_RECEIVE, limit - seen.size),
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          // Long polling asks every SQS server, so a small queue is not reported empty by chance.
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      const fresh = Messages.filter((message) => message.MessageId && !seen.has(message.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) seen.set(message.MessageId as string, message);
    }
  } finally {
    await release(client, queueUrl, [...seen.values()]);
  }
  return [...seen.values()].sort((a, b) => sentAt(a) - sentAt(b));
}

async function release(client: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += MAX_MESSAGES_PER_RECEIVE) {
    const page = messages.slice(start, start + MAX_MESSAGES_PER_RECEIVE);
    await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: page.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** When SQS took the message: its SentTimestamp, which peekQueue asks for. */
export function sentAt(message: Message): number {
  return Number(message.Attributes?.SentTimestamp ?? 0);
}

/** Creates the queue when missing (CreateQueue is idempotent) and answers its URL. */
export async function ensureQueue(client: SQSClient, queueName: string): Promise<string> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: queueName }));
  if (!QueueUrl) throw new Error(`SQS answered no URL for queue ${queueName}`);
  return QueueUrl;
}
