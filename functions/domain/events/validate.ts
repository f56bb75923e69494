import type { z } from 'zod';
import { eventSchema, type IncomingEvent, type StoredEvent } from './schema';
import { findPii, type PiiKind } from '../privacy/pii';
import type { Pseudonymise } from '../privacy/pseudonymise';
import { issueMessage } from '../api/issue-message';

const PII_NAMES: Readonly<Record<PiiKind, string>> = {
  email: 'an e-mail address',
  phone: 'a phone number',
  ip_address: 'an IP address',
  card_number: 'a payment card number',
  national_id: 'a national id number',
};

export type RejectionCode = 'invalid_event' | 'pii_detected' | 'occurred_at_out_of_range' | 'duplicate_event_id' | 'consent_missing' | 'stream_unavailable';

export interface Rejection {
  readonly index: number;
  readonly code: RejectionCode;
  readonly message: string;
}

export type Validation = { ok: true; event: IncomingEvent } | { ok: false; code: RejectionCode; message: string };

const HOUR_MS = 3_600_000;
export const MAX_FUTURE_MS = 24 * HOUR_MS;
export const MAX_AGE_MS = 30 * 24 * HOUR_MS;

/** `attributes.valence: Too big: expected number to be <=1`: the field first, so a client can find it. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part))).join('.').replace(/\.\[/g, '[');
  return `${path || '(event)'}: ${issueMessage(issue)}`;
}

/**
 * Validates one event on its own: not more than 24 h ahead of `now`, and with `freshness` not
 * older than 30 days (the history import turns it off: history is old, never in the future).
 */
export function validateEvent(raw: unknown, now: Date, options: { freshness: boolean }): Validation {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    return { ok: false, code: 'invalid_event', message: first ? describeIssue(first) : 'invalid event' };
  }
  const event = parsed.data as IncomingEvent;
  const pii = findPii(event);
  // The value is not echoed: the answer and its logs would carry what they refuse.
  if (pii) return { ok: false, code: 'pii_detected', message: `${pii.field}: holds what looks like ${PII_NAMES[pii.kind]}; personal data may not be sent` };
  const age = now.getTime() - Date.parse(event.occurredAt);
  if (options.freshness && age > MAX_AGE_MS) return { ok: false, code: 'occurred_at_out_of_range', message: 'occurredAt: older than 30 days' };
  if (-age > MAX_FUTURE_MS) return { ok: false, code: 'occurred_at_out_of_range', message: 'occurredAt: more than 24 h in the future' };
  return { ok: true, event };
}

export interface Pseudonymisers {
  readonly user: Pseudonymise;
  readonly session: Pseudonymise;
}

/** Drops the raw ids for their pseudonyms and the channel token, and normalises the timestamp to UTC. */
export function toStoredEvent(event: IncomingEvent, pseudonymise: Pseudonymisers, receivedAt: Date): StoredEvent {
  const { channelToken: _channelToken, ...context } = event.context ?? {};
  return {
    v: 1,
    eventId: event.eventId.toLowerCase(),
    type: event.type,
    occurredAt: new Date(event.occurredAt).toISOString(),
    receivedAt: receivedAt.toISOString(),
    subject: pseudonymise.user(event.userId),
    session: pseudonymise.session(event.sessionId),
    attributes: event.attributes,
    context,
  } as StoredEvent;
}
