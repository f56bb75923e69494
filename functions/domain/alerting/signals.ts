import type { StoredEvent } from '../events/schema';
import type { ConsumerLag } from '../operations/health';
import type { Signal } from './model';

/** Crisis severities as numbers, so a rule can say "high or worse" as `>= 3`. */
export const CRISIS_SEVERITY = { low: 1, moderate: 2, high: 3, imminent: 4 } as const;

/**
 * The values a user's event gives the rules engine. The caller has checked the user's
 * `safety_monitoring` consent. Nothing but numbers and closed vocabularies leaves the event.
 */
export function signalsOfEvent(event: StoredEvent): Signal[] {
  const base = { subject: { kind: 'user' as const, id: event.subject }, at: new Date(event.occurredAt), eventId: event.eventId };
  const signal = (name: string, value: number, labels: Record<string, string> = {}): Signal => ({ ...base, name, value, labels });
  switch (event.type) {
    case 'crisis.signal':
      return [signal('crisis.severity', CRISIS_SEVERITY[event.attributes.severity], { source: event.attributes.source })];
    case 'choice.made': {
      const after = event.attributes.emotionalStateAfter;
      return after === undefined ? [] : [signal('emotional_state.crisis', after === 'crisis' ? 1 : 0)];
    }
    case 'assessment.completed': {
      const { instrument, score, items } = event.attributes;
      if (instrument === 'GAD-7') return [signal('gad7.score', score)];
      if (instrument !== 'PHQ-9') return [];
      const item9 = items?.[8];
      return item9 === undefined ? [signal('phq9.score', score)] : [signal('phq9.score', score), signal('phq9.item9', item9)];
    }
    case 'session.started':
      return [signal('session.started', 1)];
    case 'mood.reported':
      return [signal('mood.valence', event.attributes.valence)];
    default:
      return [];
  }
}

/**
 * How far a stream consumer is behind, in seconds, as a series signal the rules watch: a detect
 * consumer that stalls is a safety signal, since every second of it is a page not sent.
 */
export function consumerLagSignal(consumer: string, lag: ConsumerLag, at: Date): Signal {
  return { name: 'stream.lag_seconds', subject: { kind: 'series', id: `stream.${consumer}` }, value: Math.round(lag.oldestAgeMs / 1000), at, labels: { consumer } };
}
