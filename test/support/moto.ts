/** Reading back what the code sent to moto: its model dump, and SNS topics tapped by SQS queues. */
import { SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';

/** What moto keeps of its models: `GET /moto-api/data.json`, by service and model name. */
export async function motoData(endpoint: string, service: string, model: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  const data = (await response.json()) as Record<string, Record<string, Record<string, unknown>[]>>;
  return data[service]?.[model] ?? [];
}

/** The SNS envelope a subscribed queue receives: `Timestamp` is when SNS accepted the Publish. */
export interface SnsEnvelope {
  readonly Subject: string;
  readonly Message: string;
  readonly Timestamp: string;
}

export interface TopicTap {
  /** Up to 10 messages that arrived (and takes them off the queue), waiting at most `waitSeconds` for the first. */
  receive(waitSeconds?: number): Promise<SnsEnvelope[]>;
  close(): Promise<void>;
}

/** A queue subscribed to the topic: every message published there can be read back. */
export async function tapTopic(sns: SNSClient, sqs: SQSClient, topicArn: string, queueName: string): Promise<TopicTap> {
  const queueUrl = await ensureQueue(sqs, queueName);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn! }));
  return {
    async receive(waitSeconds = 1) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }));
      // Taken off the queue: a message left there comes back after the visibility timeout (30 s), as if sent again.
      if (Messages.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle! })) }));
      return Messages.map((m) => JSON.parse(m.Body!) as SnsEnvelope);
    },
    async close() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    },
  };
}
