import type { ConsentRecord } from '../domain/privacy/consent';

/**
 * The registry did not answer (an emulator down, a throttled table): nothing was read or stored,
 * and the caller can try again. The handlers answer it 503, not 500: no one's input was at fault.
 */
export class ConsentUnavailableError extends Error {
  override readonly name = 'ConsentUnavailableError';
}

/** The consent registry (DynamoDB in AWS, LMDB in the data folder locally). */
export interface ConsentRegistry {
  /** Replaces the subject's record. */
  put(record: ConsentRecord): Promise<void>;
  /** The records of those subjects that have one; at most one lookup round trip per 100 subjects. */
  getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>>;
  /** Erasure: true when there was a record to remove. */
  remove(subject: string): Promise<boolean>;
}
