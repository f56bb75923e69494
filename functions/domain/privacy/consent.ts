import { z } from 'zod';

/** What a user may have agreed to, each on its own (GDPR Art. 7: consent is specific). */
export const CONSENT_SCOPES = ['analytics', 'research', 'safety_monitoring'] as const;
export type ConsentScope = (typeof CONSENT_SCOPES)[number];
export type ConsentScopes = Readonly<Record<ConsentScope, boolean>>;

/** A user's consent as the registry keeps it: under the pseudonym, never the app's user id. */
export interface ConsentRecord {
  readonly subject: string;
  readonly scopes: ConsentScopes;
  readonly updatedAt: string;
}

/**
 * The body of `PUT /v1/consent/{userId}`: every scope stated, true or false. A PUT replaces the
 * whole record, so a scope left out would be a guess; an unknown scope is refused rather than
 * dropped, since a misspelt `reserch: false` must not read as consent kept.
 */
export const consentBodySchema = z.strictObject({
  analytics: z.boolean(),
  research: z.boolean(),
  safety_monitoring: z.boolean(),
});

/**
 * How long an ingest instance may trust what it read from the registry. The issue allows a
 * withdrawal 60 s to take effect everywhere; half of that leaves room for clock skew and for a
 * registry read that was already in flight when the withdrawal landed.
 */
export const CONSENT_CACHE_TTL_MS = 30_000;

/** Opt-in: no record, or a record without the scope, is no consent. */
export function consents(record: ConsentRecord | undefined, scope: ConsentScope): boolean {
  return record?.scopes[scope] === true;
}
