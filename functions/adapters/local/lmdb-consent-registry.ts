import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import type { ConsentRecord } from '../../domain/privacy/consent';
import type { StorageScrub } from '../../ports';
import type { ConsentRegistry } from '../../ports/consent';

const openRoot = (path: string) => open<ConsentRecord, string>({ path, compression: false });

/**
 * The embedded mode's consent registry: an LMDB file in the data folder, so consent (a legal
 * record) survives a restart as it would in DynamoDB. A write returns once it is flushed.
 *
 * LMDB never overwrites a committed page: a removal writes a new page and leaves the old one,
 * pseudonym and all, on the free list until some later write reuses it, and even a live page
 * keeps a removed entry's bytes in its unused middle. A compacting copy (`mdb_env_copy2`) copies
 * live pages as they are, so it kept them too (measured). Hence `scrub`: the registry is written
 * anew, entry by entry in key order, into a fresh file that replaces the old one.
 */
export class LmdbConsentRegistry implements ConsentRegistry, StorageScrub {
  readonly store = 'consent registry';
  readonly what = 'the registry file written anew from its live records, so no removed record stays in a freed page';
  /** Writes and scrubs, one at a time: a scrub must not miss a write, nor close the file under one. */
  private writes: Promise<unknown> = Promise.resolve();
  /** Set while the file is being replaced; reads wait for it. */
  private replacing: Promise<unknown> | undefined;

  private constructor(
    private readonly path: string,
    private root: RootDatabase<ConsentRecord, string>,
  ) {}

  static open(path: string): LmdbConsentRegistry {
    return new LmdbConsentRegistry(path, openRoot(path));
  }

  put(record: ConsentRecord): Promise<void> {
    return this.write(async () => {
      await this.root.put(record.subject, { subject: record.subject, scopes: { ...record.scopes }, updatedAt: record.updatedAt });
    });
  }

  async getMany(subjects: readonly string[]): Promise<Map<string, ConsentRecord>> {
    if (this.replacing) await this.replacing;
    const found = new Map<string, ConsentRecord>();
    for (const subject of new Set(subjects)) {
      const record = this.root.get(subject);
      if (record !== undefined) found.set(subject, record);
    }
    return found;
  }

  remove(subject: string): Promise<boolean> {
    // lmdb's remove resolves true whether or not the key was there.
    return this.write(() => this.root.transaction(() => this.root.get(subject) !== undefined && this.root.removeSync(subject)));
  }

  scrub(): Promise<void> {
    return this.write(async () => {
      // No extension: lmdb takes a path with one for a file, not a folder like the registry's.
      const fresh = `${this.path}-rewrite`;
      rmSync(fresh, { recursive: true, force: true });
      const replaced = (async () => {
        const copy = openRoot(fresh);
        await copy.transaction(() => {
          for (const { key, value } of this.root.getRange({})) copy.putSync(key, value);
        });
        await copy.close();
        await this.root.close();
        // One rename: a crash leaves either the old file or the new one, never neither.
        renameSync(join(fresh, 'data.mdb'), join(this.path, 'data.mdb'));
        rmSync(fresh, { recursive: true, force: true });
        this.root = openRoot(this.path);
      })();
      this.replacing = replaced;
      try {
        await replaced;
      } finally {
        this.replacing = undefined;
      }
    });
  }

  async close(): Promise<void> {
    await this.writes;
    await this.root.close();
  }

  private write<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
