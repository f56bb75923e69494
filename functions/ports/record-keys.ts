import type { RecordKey } from '../domain/privacy/sealed-record';

/** The key store did not answer: nothing can be sealed, so nothing is stored (a 503, never a 500). */
export class RecordKeysUnavailableError extends Error {
  override readonly name = 'RecordKeysUnavailableError';
}

/**
 * Per-user keys that seal stream payloads (DynamoDB in AWS, a table of the stream's database
 * locally). Deleting a user's key is what erases their records from stores that cannot delete
 * them (crypto-shredding).
 */
export interface RecordKeyStore {
  /** Each subject's key, made (random, 256-bit, with a random id) for subjects without one. */
  keysFor(subjects: readonly string[]): Promise<Map<string, RecordKey>>;
  /** The keys of those ids that still exist: a missing id is a deleted key, so an erased user. */
  keysById(keyIds: readonly string[]): Promise<Map<string, Uint8Array>>;
  /** Erasure: deletes the subject's key and answers its id (the partition key of their records); undefined when there was none. */
  deleteKeyOf(subject: string): Promise<string | undefined>;
}
