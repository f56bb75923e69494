import type { IncomingEvent, StoredEvent } from '../../functions/domain/events/schema';

/**
 * An incoming event as the aggregate would store it, without ingest's validation, consent and
 * keyed pseudonyms: for tests that feed a generated history straight to the features.
 * `pseudonymOf` turns the user and session ids into the `subject` and `session` fields.
 */
export function storedEvent(event: IncomingEvent, pseudonymOf: (id: string) => string = (id) => id): StoredEvent {
  return { v: 1, eventId: event.eventId, type: event.type, occurredAt: event.occurredAt, receivedAt: event.occurredAt, subject: pseudonymOf(event.userId), session: pseudonymOf(event.sessionId), attributes: event.attributes, context: event.context ?? {} } as StoredEvent;
}
