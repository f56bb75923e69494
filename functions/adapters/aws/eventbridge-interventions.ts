import { CreateEventBusCommand, PutEventsCommand, ResourceAlreadyExistsException, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { InterventionMessage } from '../../domain/alerting/intervention';
import type { InterventionSender } from '../../ports/interventions';

/** The `source` of the product's events on its bus, which the app's rules match. */
export const INTERVENTION_EVENT_SOURCE = 'therapeutic-analytics.detect';

/**
 * `intervention.recommended` as an event on the product's own EventBridge bus (its detail-type);
 * the app subscribes with a rule (the stack ships an example to a queue). PutEvents answers 200
 * with a failed entry when the bus throttles or fails internally: that is a failed send here.
 */
export class EventBridgeInterventions implements InterventionSender {
  readonly name = 'eventbridge';

  constructor(
    private readonly client: Pick<EventBridgeClient, 'send'>,
    private readonly busName: string,
  ) {}

  async send(message: InterventionMessage): Promise<void> {
    const answer = await this.client.send(
      new PutEventsCommand({ Entries: [{ EventBusName: this.busName, Source: INTERVENTION_EVENT_SOURCE, DetailType: message.type, Detail: JSON.stringify(message), Time: new Date(message.at) }] }),
    );
    const entry = answer.Entries?.[0];
    if ((answer.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode !== undefined) throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
  }
}

/** The bus on an emulator (the stack makes it in AWS); answers its name. */
export async function ensureInterventionBus(client: Pick<EventBridgeClient, 'send'>, busName: string): Promise<string> {
  try {
    await client.send(new CreateEventBusCommand({ Name: busName }));
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
  return busName;
}
