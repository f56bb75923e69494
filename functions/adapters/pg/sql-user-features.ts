import { featureDeltas, mergeFeatureState, type FeatureState } from '../../domain/behaviour/features';
import { memberHash } from '../../domain/rollups/distinct-sketch';
import type { StoredEvent } from '../../domain/events/schema';
import type { FeatureRows } from '../../ports/features';
import type { SqlDatabase, SqlExecutor } from './database';
import { prepared } from './prepared-statements';
import { bareArray } from './array-literals';
import { RecencyBoundedMap } from './recency-bounded-map';

/** A subject's member hash as int8 takes it: the same 64 bits, read as signed. */
export const signedSubjectHash = (subject: string): string => BigInt.asIntN(64, memberHash(subject)).toString();

const READ_STATES = `SELECT subject_hash::text AS subject_hash, state FROM user_features WHERE subject_hash = ANY($1::int8[])`;
// The batch's users ($1) whose stored version is not the one held ($2, NULL where none is held),
// numbered 1.. in order: a held user whose row is gone (erased) comes back with a NULL state.
const READ_CHANGED_STATES = prepared('features.read-changed', `
  SELECT k.i::int4 AS i, u.state, u.version
  FROM unnest($1::int8[], $2::int8[]) WITH ORDINALITY AS k(subject_hash, version, i)
  LEFT JOIN user_features u ON u.subject_hash = k.subject_hash
  WHERE u.version IS DISTINCT FROM k.version`);
// The states travel as one JSON array, paired with the hashes by position: as an array of json
// each state's JSON was escaped into an array literal by the driver, copies that were half of what
// the aggregator allocated for the features.
const WRITE_STATES = prepared('features.write', `
  INSERT INTO user_features (subject_hash, state, version, updated_at)
  SELECT u.subject_hash, u.state, $3, now() FROM ROWS FROM (unnest($1::int8[]), json_array_elements($2::json)) AS u(subject_hash, state)
  ON CONFLICT (subject_hash) DO UPDATE SET state = excluded.state, version = excluded.version, updated_at = excluded.updated_at`);

/**
 * About how many bytes of heap a held state takes per character of its JSON, with its place in the
 * map: 2.3 measured on Node 20 over the 3,550 states of 200,000 of the demo's events.
 */
const HEAP_BYTES_PER_JSON_CHAR = 2.5;
/** What the held states may take: some 5,000 users of the demo's (2.4 KB of JSON each after a month). */
export const FEATURE_STATE_CACHE_BYTES = 32 * 1024 * 1024;

interface HeldState {
  readonly state: FeatureState;
  readonly version: number;
  readonly bytes: number;
}

/**
 * Merges batches' new events into their users' feature rows. Used inside the rollup store's
 * write, under its writer lock (no other writer changes a row between this read and this write),
 * with that write's number as the rows' version.
 *
 * A user's whole state is written on every batch with an event of theirs, so the states written
 * last are kept (least recently used dropped beyond `cacheBytes`), and only the users whose row
 * another writer changed since, or whose state is not held, are read: the stream is partitioned by
 * user, so a user's events reach one aggregator instance, and nearly every read finds nothing new.
 */
export class FeatureStateWriter {
  private readonly states: RecencyBoundedMap<HeldState>;

  constructor(cacheBytes = FEATURE_STATE_CACHE_BYTES) {
    this.states = new RecencyBoundedMap(cacheBytes, (held) => held.bytes);
  }

  /** `hashOf` is signedSubjectHash, or a caller's memo of it. */
  async apply(tx: SqlExecutor, events: readonly StoredEvent[], version: number, hashOf: (subject: string) => string = signedSubjectHash): Promise<void> {
    const deltas = [...featureDeltas(events)];
    if (deltas.length === 0) return;
    const hashes = deltas.map(([subject]) => hashOf(subject));
    const bases = hashes.map((hash) => this.states.get(hash));
    const { rows } = await tx.query<{ i: number; state: FeatureState | null; version: number | null }>(READ_CHANGED_STATES, [
      bareArray(hashes),
      bareArray(bases.map((held) => held?.version ?? 'NULL')),
    ]);
    const stored: (FeatureState | null | undefined)[] = bases.map((held) => held?.state);
    for (const row of rows) stored[row.i - 1] = row.state;
    const states = deltas.map(([, delta], i) => {
      const before = stored[i];
      return before ? mergeFeatureState(before, delta) : delta;
    });
    const texts = states.map((state) => JSON.stringify(state));
    await tx.query(WRITE_STATES, [bareArray(hashes), `[${texts.join(',')}]`, version]);
    hashes.forEach((hash, i) => this.states.set(hash, { state: states[i]!, version, bytes: texts[i]!.length * HEAP_BYTES_PER_JSON_CHAR }));
  }

  /** How many states are held and about how many bytes they take (bounded by `cacheBytes`). */
  held(): { states: number; bytes: number } {
    return { states: this.states.size, bytes: this.states.weight };
  }

  /** Drops every held state: after a failed write, whose states may not have been stored. */
  forget(): void {
    this.states.clear();
  }
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
