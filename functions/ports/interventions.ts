import type { InterventionMessage } from '../domain/alerting/intervention';
import type { EffectivenessCounts, FollowUp } from '../domain/alerting/intervention-effectiveness';

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
  /** Set by `followUp`: when the person completed the intervention (answered the check-in). */
  readonly followedAt?: Date;
  /** Mood valences, the last before the recommendation and the first after it was followed. */
  readonly moodBefore?: number;
  readonly moodAfter?: number;
}

export interface InterventionStore {
  /** Keeps the record; false when one of its id is kept already (a batch retried), which it leaves as it is. */
  record(intervention: InterventionRecord): Promise<boolean>;
  /**
   * Closes the loops the observations close (`intervention-effectiveness.ts` says how), and keeps
   * each user's last mood for the mood before their next recommendation. Set-based, one batch at a
   * time, and idempotent: a batch applied twice changes nothing more.
   */
  followUp(observations: readonly FollowUp[]): Promise<void>;
  /** Per UTC week (of the recommendation) and intervention type, the counts the release decides on. */
  effectiveness(from: Date, to: Date): Promise<EffectivenessCounts[]>;
  /** Drops the last moods reported before `cutoff`: kept only as long as a mood before can be. */
  forgetMoodsBefore(cutoff: Date): Promise<number>;
  /** The records of one subject key, newest first. */
  ofSubject(subject: string): Promise<InterventionRecord[]>;
  /** GDPR erasure, the subject's last mood with its records: answers how many went. */
  eraseSubject(subject: string): Promise<number>;
  /** Retention: drops the records recommended before `cutoff`; answers how many went. */
  purgeBefore(cutoff: Date): Promise<number>;
}
