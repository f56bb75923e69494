import type { ConsentRecord } from '../domain/privacy/consent';

/** The consent registry (DynamoDB in AWS, LMDB in the data folder locally). */
export interface ConsentRegistry {
  /** Replaces the subject's record. */
  put(record: ConsentRecord): Promise<void>;
  /** The records of those subjects that have one; at most one lookup round trip per 100 subjects. */
  getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>>;
  /** Erasure: true when there was a record to remove. */
  remove(subject: string): Promise<boolean>;
}
