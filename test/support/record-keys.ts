import { newRecordKey } from '../../functions/adapters/record-key-material';
import type { RecordKey } from '../../functions/domain/privacy/sealed-record';
import type { RecordKeyStore } from '../../functions/ports/record-keys';

/** Record keys in memory, for unit tests of what seals and opens records. */
export class MemoryRecordKeys implements RecordKeyStore {
  private readonly bySubject = new Map<string, RecordKey>();

  async keysFor(subjects: readonly string[]): Promise<Map<string, RecordKey>> {
    for (const subject of subjects) if (!this.bySubject.has(subject)) this.bySubject.set(subject, newRecordKey());
    return new Map(subjects.map((subject) => [subject, this.bySubject.get(subject)!]));
  }

  async keysById(keyIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    const wanted = new Set(keyIds);
    return new Map([...this.bySubject.values()].filter((key) => wanted.has(key.keyId)).map((key) => [key.keyId, key.key]));
  }

  async deleteKeyOf(subject: string): Promise<string | undefined> {
    const key = this.bySubject.get(subject);
    this.bySubject.delete(subject);
    return key?.keyId;
  }
}
