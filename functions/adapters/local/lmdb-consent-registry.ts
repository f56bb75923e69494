import { open, type RootDatabase } from 'lmdb';
import type { ConsentRecord } from '../../domain/privacy/consent';
import type { ConsentRegistry } from '../../ports/consent';

/**
 * The embedded mode's consent registry: an LMDB file in the data folder, so consent (a legal
 * record) survives a restart as it would in DynamoDB. A write returns once it is flushed.
 */
export class LmdbConsentRegistry implements ConsentRegistry {
  private constructor(private readonly root: RootDatabase<ConsentRecord, string>) {}

  static open(path: string): LmdbConsentRegistry {
    return new LmdbConsentRegistry(open<ConsentRecord, string>({ path, compression: false }));
  }

  async put(record: ConsentRecord): Promise<void> {
    await this.root.put(record.subject, { subject: record.subject, scopes: { ...record.scopes }, updatedAt: record.updatedAt });
  }

  async getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>> {
    const found = new Map<string, ConsentRecord>();
    for (const subject of new Set(subjects)) {
      const record = this.root.get(subject);
      if (record !== undefined) found.set(subject, record);
    }
    return found;
  }

  async remove(subject: string): Promise<boolean> {
    // lmdb's remove resolves true whether or not the key was there.
    return this.root.transaction(() => this.root.get(subject) !== undefined && this.root.removeSync(subject));
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
