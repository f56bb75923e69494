import { featureDeltas, mergeFeatureState, type FeatureState } from '../../domain/behaviour/features';
import { memberHash } from '../../domain/rollups/distinct-sketch';
import type { StoredEvent } from '../../domain/events/schema';
import type { SqlExecutor } from './database';

/** A subject's member hash as int8 takes it: the same 64 bits, read as signed. */
export const signedSubjectHash = (subject: string): string => BigInt.asIntN(64, memberHash(subject)).toString();

const READ_STATES = `SELECT subject_hash::text AS subject_hash, state FROM user_features WHERE subject_hash = ANY($1::int8[])`;
const WRITE_STATES = `
  INSERT INTO user_features (subject_hash, state, updated_at)
  SELECT u.subject_hash, u.state, now() FROM unnest($1::int8[], $2::jsonb[]) AS u(subject_hash, state)
  ON CONFLICT (subject_hash) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`;

/**
 * Merges a batch's new events into their users' feature rows. Called inside the rollup store's
 * write, under its writer lock: no other writer reads a row between this read and this write.
 */
export async function applyFeatures(tx: SqlExecutor, events: readonly StoredEvent[]): Promise<void> {
  const deltas = [...featureDeltas(events)];
  if (deltas.length === 0) return;
  const hashes = deltas.map(([subject]) => signedSubjectHash(subject));
  const { rows } = await tx.query<{ subject_hash: string; state: FeatureState }>(READ_STATES, [hashes]);
  const stored = new Map(rows.map((row) => [row.subject_hash, row.state]));
  const states = deltas.map(([, delta], i) => {
    const before = stored.get(hashes[i]!);
    return JSON.stringify(before ? mergeFeatureState(before, delta) : delta);
  });
  await tx.query(WRITE_STATES, [hashes, states]);
}

/** The stored feature state of each of these users (by pseudonym) that has one. */
export async function readFeatureStates(db: SqlExecutor, subjects: readonly string[]): Promise<Map<string, FeatureState>> {
  const hashes = subjects.map(signedSubjectHash);
  const { rows } = await db.query<{ subject_hash: string; state: FeatureState }>(READ_STATES, [hashes]);
  const byHash = new Map(rows.map((row) => [row.subject_hash, row.state]));
  return new Map(subjects.flatMap((subject, i) => (byHash.has(hashes[i]!) ? [[subject, byHash.get(hashes[i]!)!] as const] : [])));
}
