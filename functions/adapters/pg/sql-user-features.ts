import { featureDeltas, mergeFeatureState, type FeatureState } from '../../domain/behaviour/features';
import { memberHash } from '../../domain/rollups/distinct-sketch';
import type { StoredEvent } from '../../domain/events/schema';
import type { FeatureRows } from '../../ports/features';
import type { SqlDatabase, SqlExecutor } from './database';
import { bareArray } from './array-literals';

/** A subject's member hash as int8 takes it: the same 64 bits, read as signed. */
export const signedSubjectHash = (subject: string): string => BigInt.asIntN(64, memberHash(subject)).toString();

const READ_STATES = `SELECT subject_hash::text AS subject_hash, state FROM user_features WHERE subject_hash = ANY($1::int8[])`;
// The states travel as one JSON array, paired with the hashes by position: as a jsonb[] each
// state's JSON was escaped into an array literal by the driver, copies that were half of what
// the aggregator allocated for the features.
const WRITE_STATES = `
  INSERT INTO user_features (subject_hash, state, updated_at)
  SELECT u.subject_hash, u.state, now() FROM ROWS FROM (unnest($1::int8[]), jsonb_array_elements($2::jsonb)) AS u(subject_hash, state)
  ON CONFLICT (subject_hash) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`;

/**
 * Merges a batch's new events into their users' feature rows. Called inside the rollup store's
 * write, under its writer lock: no other writer reads a row between this read and this write.
 */
export async function applyFeatures(tx: SqlExecutor, events: readonly StoredEvent[]): Promise<void> {
  const deltas = [...featureDeltas(events)];
  if (deltas.length === 0) return;
  const hashes = deltas.map(([subject]) => signedSubjectHash(subject));
  const { rows } = await tx.query<{ subject_hash: string; state: FeatureState }>(READ_STATES, [bareArray(hashes)]);
  const stored = new Map(rows.map((row) => [row.subject_hash, row.state]));
  const states = deltas.map(([, delta], i) => {
    const before = stored.get(hashes[i]!);
    return before ? mergeFeatureState(before, delta) : delta;
  });
  await tx.query(WRITE_STATES, [bareArray(hashes), JSON.stringify(states)]);
}

/** The stored feature state of each of these users (by pseudonym) that has one. */
export async function readFeatureStates(db: SqlExecutor, subjects: readonly string[]): Promise<Map<string, FeatureState>> {
  const hashes = subjects.map(signedSubjectHash);
  const { rows } = await db.query<{ subject_hash: string; state: FeatureState }>(READ_STATES, [hashes]);
  const byHash = new Map(rows.map((row) => [row.subject_hash, row.state]));
  return new Map(subjects.flatMap((subject, i) => (byHash.has(hashes[i]!) ? [[subject, byHash.get(hashes[i]!)!] as const] : [])));
}

/** user_features in subject-hash order, by keyset pages. */
export class SqlFeatureRows implements FeatureRows {
  constructor(private readonly db: SqlDatabase) {}

  async *pages(pageSize: number): AsyncIterable<readonly (readonly [string, FeatureState])[]> {
    let after: string | null = null;
    for (;;) {
      const page: { rows: { hash: string; state: FeatureState }[] } = await this.db.query<{ hash: string; state: FeatureState }>(
        // Ordered by the column, not by its text alias: "-2" sorts after "-1" as text, and the keyset would skip rows.
        'SELECT subject_hash::text AS hash, state FROM user_features WHERE $1::int8 IS NULL OR subject_hash > $1::int8 ORDER BY user_features.subject_hash LIMIT $2',
        [after, pageSize],
      );
      if (page.rows.length === 0) return;
      yield page.rows.map((row) => [row.hash, row.state] as const);
      after = page.rows.at(-1)!.hash;
      if (page.rows.length < pageSize) return;
    }
  }
}
