import type { Logger } from '../adapters/log';
import { interventionMessage, recommendationId } from '../domain/alerting/intervention';
import { followUpsOf } from '../domain/alerting/intervention-effectiveness';
import type { StoredEvent } from '../domain/events/schema';
import { subjectKey, type Intervene, type Transition } from '../domain/alerting/model';
import type { Clock, Metrics, Sleep } from '../ports';
import type { InterventionRecord, InterventionSender, InterventionStatus, InterventionStore } from '../ports/interventions';
import { attempt, doubling } from './retry';

/** Counted per status (`sent`, `no_channel`, `failed`): a recommendation that did not reach the app is a signal for operators. */
export const INTERVENTIONS_METRIC = 'interventions_recommended_total';

/**
 * A few quick attempts (0.2 + 0.4 s between them): the person is in the app now, and a later
 * attempt would not be one; the alert beside it still reaches a clinician.
 */
const SEND_RETRY = { attempts: 3, delayMs: doubling(200) } as const;

export interface RecommendDeps {
  readonly store: Pick<InterventionStore, 'record'>;
  readonly sender: InterventionSender;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'count'>;
}

/** A user's rule that started firing on an event, and intervenes. */
interface Due {
  readonly transition: Transition;
  readonly rule: { readonly id: string; readonly intervene: Intervene };
  readonly eventId: string;
}

export type Recommend = (transitions: readonly Transition[], channelTokens: ReadonlyMap<string, string>) => Promise<number>;

/**
 * Sends the app an `intervention.recommended` for each rule that started firing for a user and
 * carries the action `intervene`, to the channel token of the event that fired it (by event id
 * in `channelTokens`), and keeps a record of each without the token. Answers how many it sent.
 * The message's id is the rule's and the event's, so a batch retried sends the app a repeat it
 * can recognise, and records once.
 */
export function makeRecommend(deps: RecommendDeps): Recommend {
  async function sendWithRetries(message: Parameters<InterventionSender['send']>[0]): Promise<{ status: InterventionStatus; attempts: number }> {
    const sent = await attempt(SEND_RETRY, deps.sleep, () => deps.sender.send(message));
    if (sent.ok) return { status: 'sent', attempts: sent.attempts };
    // The error names the sender's failure, never the message: it holds the channel token.
    const error = sent.error instanceof Error ? sent.error.message : String(sent.error);
    deps.logger.warn('intervention not sent', { rule: message.rule, id: message.id, sender: deps.sender.name, attempts: sent.attempts, error });
    return { status: 'failed', attempts: sent.attempts };
  }

  async function recommendOne({ transition, rule, eventId }: Due, channelToken: string | undefined): Promise<InterventionStatus> {
    const outcome = channelToken === undefined ? { status: 'no_channel' as const, attempts: 0 } : await sendWithRetries(interventionMessage(rule, { eventId, at: transition.at }, channelToken));
    const record: InterventionRecord = {
      id: recommendationId(rule.id, eventId),
      ruleId: rule.id,
      subject: subjectKey(transition.subject),
      eventId,
      interventionType: rule.intervene.interventionType,
      urgency: rule.intervene.urgency,
      recommendedAt: transition.at,
      status: outcome.status,
      attempts: outcome.attempts,
      ...(outcome.status === 'no_channel' ? {} : { sender: deps.sender.name }),
      ...(outcome.status === 'sent' ? { sentAt: deps.clock.now() } : {}),
    };
    await deps.store.record(record);
    deps.metrics?.count(INTERVENTIONS_METRIC, 1, { status: outcome.status });
    return outcome.status;
  }

  return async function recommend(transitions, channelTokens) {
    const due = transitions.flatMap((transition): Due[] => {
      const { state, rule, subject, eventId } = transition;
      return state === 'firing' && rule.intervene !== undefined && subject.kind === 'user' && eventId !== undefined ? [{ transition, rule: { id: rule.id, intervene: rule.intervene }, eventId }] : [];
    });
    const statuses = await Promise.all(due.map((item) => recommendOne(item, channelTokens.get(item.eventId))));
    return statuses.filter((status) => status === 'sent').length;
  };
}

/** Detect's closing of the loops its watched events close: the app's completions and the people's mood reports. */
export type FollowUps = (events: readonly StoredEvent[]) => Promise<void>;

export function makeFollowUps(store: Pick<InterventionStore, 'followUp'>): FollowUps {
  return (events) => store.followUp(followUpsOf(events));
}
