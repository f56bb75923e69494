import type { StoredEvent } from '../events/schema';
import type { ConsumerLag } from '../operations/health';
import type { Signal } from './model';

/** Crisis severities as numbers, so a rule can say "high or worse" as `>= 3`. */
export const CRISIS_SEVERITY = { low: 1, moderate: 2, high: 3, imminent: 4 } as const;

/**
 * How long after it happened an event may reach ingest and still be watched by the safety rules:
 * 24 h. A phone that was offline for a night (8-16 h) queues its events and sends them in the
 * morning, and a crisis among them must still page: someone may still be at risk. An event older
 * than a day when it arrives is history (the demo's weeks of traffic, an import, a backfill): it
 * is counted in analytics and reports, but a page about it at 3 a.m. reaches no one who can act
 * on that moment, and the rules must not keep state from it that would change what a live event
 * does. Measured against `receivedAt`, not the detect consumer's clock, so a consumer catching up
 * on a backlog still pages (its lag pages on its own, `detect-lag`). Ingest accepts occurredAt up
 * to 24 h ahead for the same reason in the other direction: clocks of phones.
 */
export const LIVE_HORIZON_MS = 24 * 3_600_000;

/** Whether the event reached ingest within the live horizon of its occurredAt; otherwise it is history. */
export function arrivedLive(event: Pick<StoredEvent, 'occurredAt' | 'receivedAt'>): boolean {
  return Date.parse(event.receivedAt) - Date.parse(event.occurredAt) <= LIVE_HORIZON_MS;
}

/**
 * The values a user's event gives the rules engine. The caller has checked the user's
 * `safety_monitoring` consent. Nothing but numbers and closed vocabularies leaves the event.
 */
export function signalsOfEvent(event: StoredEvent): Signal[] {
  const base = { subject: { kind: 'user' as const, id: event.subject }, at: new Date(event.occurredAt), eventId: event.eventId, receivedAt: new Date(event.receivedAt) };
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
