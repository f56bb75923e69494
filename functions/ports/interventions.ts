import type { InterventionMessage } from '../domain/alerting/intervention';

/** How a recommendation went: sent to the app, or not (the app gave no channel token, or the sender failed every attempt). */
export type InterventionStatus = 'sent' | 'no_channel' | 'failed';

/** Where `intervention.recommended` goes: the product's EventBridge bus, the app's webhook, or the local outbox. */
export interface InterventionSender {
  /** `eventbridge`, `webhook` or `outbox`, as the records of what was sent name it. */
  readonly name: string;
  /** Throws when the message was not taken; the caller retries. */
  send(message: InterventionMessage): Promise<void>;
}

/**
 * One recommendation, as kept for the effectiveness figures and for the erasure of its user:
 * everything but the channel token, which only the stream and the message hold.
 */
export interface InterventionRecord {
  readonly id: string;
  readonly ruleId: string;
  /** `user:<pseudonym>`. */
  readonly subject: string;
  readonly eventId: string;
  readonly interventionType: string;
  readonly urgency: string;
  readonly recommendedAt: Date;
  readonly status: InterventionStatus;
  /** `eventbridge`, `webhook` or `outbox`; none when there was no channel. */
  readonly sender?: string;
  readonly attempts: number;
  readonly sentAt?: Date;
}

export interface InterventionStore {
  /** Keeps the record; false when one of its id is kept already (a batch retried), which it leaves as it is. */
  record(intervention: InterventionRecord): Promise<boolean>;
  /** The records of one subject key, newest first. */
  ofSubject(subject: string): Promise<InterventionRecord[]>;
  /** GDPR erasure: answers how many went. */
  eraseSubject(subject: string): Promise<number>;
  /** Retention: drops the records recommended before `cutoff`; answers how many went. */
  purgeBefore(cutoff: Date): Promise<number>;
}
