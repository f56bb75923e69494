import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { INTERVENTION_TYPES } from '../events/schema';
import type { Intervene } from './model';

/**
 * What a rule may recommend: the app's interventions, and a check-in (the app asks how the person
 * is, and a mood check-in answers it).
 */
export const RECOMMENDED_INTERVENTIONS = [...INTERVENTION_TYPES, 'check_in'] as const;

/**
 * The message detect sends the app, as DESIGN.md "Interventions and clinicians" gives it. `id` is
 * the same for the same rule and event, so the app can drop a repeat (a sender retried after a
 * timeout may have delivered already); `channelToken` is the app's own, from the event.
 */
export interface InterventionMessage {
  readonly type: 'intervention.recommended';
  readonly id: string;
  readonly interventionType: string;
  readonly urgency: string;
  readonly rule: string;
  readonly channelToken: string;
  /** When the event that fired the rule happened (ISO-8601). */
  readonly at: string;
}

/** A UUID (version 8, name-based on SHA-256) of the rule and the event, so a retry names the same recommendation. */
export function recommendationId(ruleId: string, eventId: string): string {
  const hash = createHash('sha256').update(`intervention\n${ruleId}\n${eventId}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function interventionMessage(rule: { readonly id: string; readonly intervene: Intervene }, event: { readonly eventId: string; readonly at: Date }, channelToken: string): InterventionMessage {
  return {
    type: 'intervention.recommended',
    id: recommendationId(rule.id, event.eventId),
    interventionType: rule.intervene.interventionType,
    urgency: rule.intervene.urgency,
    rule: rule.id,
    channelToken,
    at: event.at.toISOString(),
  };
}

/** The webhook's signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as Stripe signs. */
export const INTERVENTION_SIGNATURE_HEADER = 'x-intervention-signature';

export function signIntervention(body: string, secret: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * What the app's receiver checks: the signature is the secret's, and at most `toleranceSec` old
 * (a captured request cannot be replayed later).
 */
export function verifyInterventionSignature(body: string, header: string, secret: string, now: Date, toleranceSec = 300): boolean {
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isSafeInteger(t) || v1 === undefined || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSec) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
