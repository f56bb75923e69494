import type { RecordKey } from '../../domain/privacy/sealed-record';
import type { RecordKeyStore } from '../../ports/record-keys';
import { newRecordKey } from '../record-key-material';
import type { SqlDatabase } from './database';

// Keys for the subjects that have none, and every subject's key, in one round trip. The SELECT
// runs on the statement's snapshot, so it does not see the rows this statement inserts: those
// come from RETURNING. A subject another writer inserted meanwhile is in neither (its key is
// read again).
const KEYS_FOR = `
  WITH made AS (
    INSERT INTO record_keys (subject, key_id, key)
    SELECT s, k, decode(m, 'hex') FROM unnest($1::text[], $2::text[], $3::text[]) AS n(s, k, m)
    ON CONFLICT (subject) DO NOTHING
    RETURNING subject, key_id, key)
  SELECT subject, key_id, key FROM made
  UNION ALL
  SELECT subject, key_id, key FROM record_keys WHERE subject = ANY($1::text[])`;

/** The record keys of the local modes: a table of the stream's database (PGlite or PostgreSQL). */
export class SqlRecordKeyStore implements RecordKeyStore {
  constructor(private readonly db: SqlDatabase) {}

  async keysFor(subjects: readonly string[]): Promise<Map<string, RecordKey>> {
    const found = new Map<string, RecordKey>();
    let missing = [...new Set(subjects)];
    // Twice at most: a subject lost to a concurrent insert is read the second time.
    for (let attempt = 0; attempt < 2 && missing.length > 0; attempt += 1) {
      const fresh = missing.map(() => newRecordKey());
      const { rows } = await this.db.query<{ subject: string; key_id: string; key: Uint8Array }>(KEYS_FOR, [
        missing,
        fresh.map((key) => key.keyId),
        fresh.map((key) => Buffer.from(key.key).toString('hex')),
      ]);
      for (const row of rows) found.set(row.subject, { keyId: row.key_id, key: row.key });
      missing = missing.filter((subject) => !found.has(subject));
    }
    if (missing.length > 0) throw new Error(`record keys: ${missing.length} subjects have no key after a retry`);
    return found;
  }

  async keysById(keyIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    if (keyIds.length === 0) return new Map();
    const { rows } = await this.db.query<{ key_id: string; key: Uint8Array }>('SELECT key_id, key FROM record_keys WHERE key_id = ANY($1::text[])', [[...new Set(keyIds)]]);
    return new Map(rows.map((row) => [row.key_id, row.key]));
  }

  async deleteKeyOf(subject: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ key_id: string }>('DELETE FROM record_keys WHERE subject = $1 RETURNING key_id', [subject]);
    return rows[0]?.key_id;
  }
}
