import type { Clock } from '../ports';
import { ConsentUnavailableError, type ConsentRegistry } from '../ports/consent';
import type { ConsentRecord, ConsentScopes } from '../domain/privacy/consent';
import type { Pseudonymise } from '../domain/privacy/pseudonymise';

export interface RecordConsentDeps {
  readonly registry: ConsentRegistry;
  readonly pseudonymiseUser: Pseudonymise;
  readonly clock: Clock;
}

/** Replaces a user's consent, kept under their pseudonym: the raw id goes no further than this call. */
export function makeRecordConsent(deps: RecordConsentDeps) {
  return async function recordConsent(userId: string, scopes: ConsentScopes): Promise<ConsentRecord> {
    const record: ConsentRecord = { subject: deps.pseudonymiseUser(userId), scopes, updatedAt: deps.clock.now().toISOString() };
    await deps.registry.put(record).catch((error: unknown) => {
      throw new ConsentUnavailableError('the consent registry did not answer', { cause: error });
    });
    return record;
  };
}

export type RecordConsent = ReturnType<typeof makeRecordConsent>;
