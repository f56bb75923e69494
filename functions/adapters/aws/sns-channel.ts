import { CreateTopicCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { alertTopicOf, CLINICIAN_ATTRIBUTE, severityAttribute, snsPublication, type AlertTopic } from '../../domain/alerting/message';
import type { AlertMessage } from '../../domain/alerting/model';
import type { NotificationChannel } from '../../ports/notifications';

export type AlertTopics = Readonly<Record<AlertTopic, string>>;

/**
 * Pages through the SNS topic of the message (`alertTopicOf`), whose subscriptions reach people by
 * SMS and e-mail; a clinician's message carries their id and its severity as the attributes their
 * subscriptions' filter policies match (`{"clinician": ["<id>"]}` for e-mail, with
 * `"severity": ["critical"]` for SMS), so each of them gets only their own caseload's alerts.
 */
export class SnsChannel implements NotificationChannel {
  readonly channel = 'sns' as const;

  constructor(
    private readonly client: SNSClient,
    private readonly topics: AlertTopics,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    // `severity` too: a clinician's SMS subscription filters on critical, as only the critical topic has SMS subscribers.
    const attributes =
      message.clinician === undefined
        ? {}
        : { MessageAttributes: { [CLINICIAN_ATTRIBUTE]: { DataType: 'String', StringValue: message.clinician }, severity: { DataType: 'String', StringValue: severityAttribute(message) } } };
    await this.client.send(new PublishCommand({ TopicArn: this.topics[alertTopicOf(message)], ...snsPublication(message), ...attributes }));
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
  const [critical, warning, escalation, clinician] = await Promise.all([arnOf('critical'), arnOf('warning'), arnOf('escalation'), arnOf('clinician')]);
  return { critical, warning, escalation, clinician };
}
