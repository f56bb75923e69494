import { createHmac } from 'node:crypto';

export type Pseudonymise = (id: string) => string;

/**
 * Keyed pseudonyms: HMAC-SHA256 of the id under a secret pepper. Without the pepper a pseudonym
 * cannot be linked back to the id by guessing ids, unlike a plain hash. The `purpose` separates
 * domains, so a session id and a user id that happen to be equal get unrelated pseudonyms.
 */
export function makePseudonymiser(pepper: Uint8Array, purpose: string): Pseudonymise {
  if (pepper.length < 32) throw new Error('the pseudonymisation pepper must be at least 32 bytes');
  return (id) => createHmac('sha256', pepper).update(purpose).update('\0').update(id).digest('hex');
}
