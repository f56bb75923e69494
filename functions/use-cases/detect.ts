import type { StoredEvent } from '../domain/events/schema';
import type { Signal, Transition } from '../domain/alerting/model';
import { arrivedLive, signalsOfEvent } from '../domain/alerting/signals';

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
}

export type Detect = (events: readonly StoredEvent[]) => Promise<DetectResult>;

/**
 * The safety watch of one stream batch: the signals of consented users' live events through the
 * rules, the resulting transitions through the alert lifecycle. Both are idempotent per event, so
 * a batch retried after a failure, or a record delivered twice, notifies once. History (an event
 * that arrived more than `LIVE_HORIZON_MS` after it happened) never reaches the rules: it neither
 * pages nor leaves a condition holding, flagged at risk or firing that a later live signal would
 * then not change.
 */
export function makeDetect(deps: { readonly rules: SignalRules; readonly alerts: TransitionSink }): Detect {
  return async function detect(events) {
    const watched = events.filter((event) => event.safety === true);
    const signals: Signal[] = [];
    let history = 0;
    for (const event of watched) {
      const ofEvent = signalsOfEvent(event);
      if (arrivedLive(event)) signals.push(...ofEvent);
      else history += ofEvent.length;
    }
    const transitions = signals.length > 0 ? await deps.rules.observe(signals) : [];
    if (transitions.length > 0) await deps.alerts.apply(transitions);
    return { watched: watched.length, signals: signals.length, history, transitions: transitions.length };
  };
}
