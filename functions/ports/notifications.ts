import type { AlertMessage, Channel, DeliveryOutcome } from '../domain/alerting/model';

/** One way of reaching people: SNS topics, SES e-mail, the dashboard's Redis feed, a local outbox. */
export interface NotificationChannel {
  readonly channel: Channel;
  /** Throws when the message was not accepted; the caller retries. */
  send(message: AlertMessage): Promise<void>;
}

/** Sends one message on each of the channels, with retries; never throws: a failure is an `undelivered` outcome. */
export type Deliver = (message: AlertMessage, channels: readonly Channel[]) => Promise<DeliveryOutcome[]>;
