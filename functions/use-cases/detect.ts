import type { StoredEvent } from '../domain/events/schema';
import type { Signal, Transition } from '../domain/alerting/model';
import { arrivedLive, signalsOfEvent } from '../domain/alerting/signals';
import type { FollowUps, Recommend } from './interventions';

/** What detect and monitor need of the rules engine and of the alert manager. */
export interface SignalRules {
  observe(signals: readonly Signal[]): Promise<Transition[]>;
}

export interface TransitionSink {
  apply(transitions: readonly Transition[]): Promise<void>;
}

export interface DetectResult {
  /** Events of users with safety-monitoring consent. */
  readonly watched: number;
  /** Signals through the rules. */
  readonly signals: number;
  /** Signals of events that arrived more than the live horizon after they happened: history, kept out of the rules. */
  readonly history: number;
  readonly transitions: number;
  /** Interventions sent to the app. */
  readonly interventions: number;
}

export type Detect = (events: readonly StoredEvent[]) => Promise<DetectResult>;

/**
 * The safety watch of one stream batch: the signals of consented users' live events through the
 * rules, the resulting transitions through the alert lifecycle. Both are idempotent per event, so
 * a batch retried after a failure, or a record delivered twice, notifies once. History (an event
 * that arrived more than `LIVE_HORIZON_MS` after it happened) never reaches the rules: it neither
 * pages nor leaves a condition holding, flagged at risk or firing that a later live signal would
 * then not change. A rule that intervenes sends the app its recommendation beside the alert, not
 * after it: the alert's notifications may take seconds of retries, and the person is in the app now.
 * Last, the watched events' follow-ups (completions, mood reports) close earlier recommendations'
 * loops for the effectiveness figures.
 */
export function makeDetect(deps: { readonly rules: SignalRules; readonly alerts: TransitionSink; readonly recommend?: Recommend; readonly followUp?: FollowUps }): Detect {
  return async function detect(events) {
    const watched = events.filter((event) => event.safety === true);
    const signals: Signal[] = [];
    const channelTokens = new Map<string, string>();
    let history = 0;
    for (const event of watched) {
      const ofEvent = signalsOfEvent(event);
      if (!arrivedLive(event)) {
        history += ofEvent.length;
        continue;
      }
      signals.push(...ofEvent);
      if (event.channelToken !== undefined) channelTokens.set(event.eventId, event.channelToken);
    }
    const transitions = signals.length > 0 ? await deps.rules.observe(signals) : [];
    // Both run to their end before a failure of either fails the batch.
    const [applied, recommended] = await Promise.allSettled([
      transitions.length > 0 ? deps.alerts.apply(transitions) : undefined,
      transitions.length > 0 && deps.recommend ? deps.recommend(transitions, channelTokens) : 0,
    ]);
    if (applied.status === 'rejected') throw applied.reason;
    if (recommended.status === 'rejected') throw recommended.reason;
    // After the pages and the batch's recommendations: a completion in the batch can follow one of
    // them, and this bookkeeping holds no page back.
    await deps.followUp?.(watched);
    const interventions = recommended.value;
    return { watched: watched.length, signals: signals.length, history, transitions: transitions.length, interventions };
  };
}
