import { CreateTopicCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { alertTopicOf, snsPublication, type AlertTopic } from '../../domain/alerting/message';
import type { AlertMessage } from '../../domain/alerting/model';
import type { NotificationChannel } from '../../ports/notifications';

export type AlertTopics = Readonly<Record<AlertTopic, string>>;

/** Pages through the SNS topic of the message (`alertTopicOf`), whose subscriptions reach people by SMS and e-mail. */
export class SnsChannel implements NotificationChannel {
  readonly channel = 'sns' as const;

  constructor(
    private readonly client: SNSClient,
    private readonly topics: AlertTopics,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    await this.client.send(new PublishCommand({ TopicArn: this.topics[alertTopicOf(message)], ...snsPublication(message) }));
  }
}

/**
 * The emulated mode's stand-in for the stack's topics: CreateTopic is idempotent, so calling this
 * at every start answers the same ARNs.
 */
export async function ensureAlertTopics(client: SNSClient, prefix: string): Promise<AlertTopics> {
  const arnOf = async (topic: AlertTopic): Promise<string> => {
    const name = `${prefix}-alerts-${topic}`;
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: name }));
    if (!TopicArn) throw new Error(`SNS answered no ARN for topic ${name}`);
    return TopicArn;
  };
  const [critical, warning, escalation] = await Promise.all([arnOf('critical'), arnOf('warning'), arnOf('escalation')]);
  return { critical, warning, escalation };
}
