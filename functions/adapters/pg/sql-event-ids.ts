import { instantMs } from '../../domain/events/instant';
import type { StoredEvent } from '../../domain/events/schema';
import type { SqlExecutor } from './database';
import { bareArray } from './array-literals';
import { RecencyBoundedMap } from './recency-bounded-map';
import { prepared } from './prepared-statements';

const DAY_MS = 86_400_000;
/** The day of the ids recorded before they were kept by day (migration 032): a user's ids of any day. */
const UNDATED = -1;

// The lists of the batch's (user, day) keys ($1, $2) whose stored version is not the one held ($3,
// NULL where none is held), and every key of a user with an erasure tombstone, numbered 1.. in
// order. A held key whose list is gone (erased, purged) comes back with NULL ids. Run after the
// writer lock is taken, in a statement of its own: a statement's snapshot is taken when it starts,
// and one that waited for the lock would not see what the writer before it committed.
const READ_CHANGED_IDS = prepared(
  'event-ids.read-changed',
  `
  SELECT k.i::int4 AS i, r.ids, r.version, (date_part('epoch', x.erased_at) * 1000)::int8 AS erased_at
  FROM unnest($1::int8[], $2::int4[], $3::int8[]) WITH ORDINALITY AS k(subject_hash, day, version, i)
  LEFT JOIN rollup_event_ids r ON r.subject_hash = k.subject_hash AND r.day = k.day
  LEFT JOIN erased_subjects x ON x.subject_hash = k.subject_hash
  WHERE r.version IS DISTINCT FROM k.version OR x.subject_hash IS NOT NULL`,
);
// The new ids of each key ($3: their 16-byte forms in hex, one text per key) appended to its list.
const APPEND_IDS = prepared(
  'event-ids.append',
  `
  INSERT INTO rollup_event_ids (subject_hash, day, ids, version, processed_at)
  SELECT u.subject_hash, u.day, decode(u.ids, 'hex'), $4::int8, now() FROM unnest($1::int8[], $2::int4[], $3::text[]) AS u(subject_hash, day, ids)
  ON CONFLICT (subject_hash, day) DO UPDATE SET ids = rollup_event_ids.ids || excluded.ids, version = excluded.version, processed_at = excluded.processed_at`,
);
const ANY_UNDATED = `SELECT EXISTS (SELECT 1 FROM rollup_event_ids WHERE day = ${UNDATED}) AS undated`;

/** What the held lists may take: some 20,000 users' days of the demo's traffic (5.75 events each). */
export const EVENT_ID_CACHE_BYTES = 16 * 1024 * 1024;
/**
 * Heap a held id takes in its Set, and a list with its key, Set and place in the map: 84 and 310
 * bytes measured on Node 20 (20,000 lists of 1 and of 21 ids, heap used after a full collection).
 */
const HEAP_BYTES_PER_ID = 90;
const HEAP_BYTES_PER_LIST = 320;

interface HeldIds {
  readonly ids: Set<string>;
  readonly version: number;
  readonly bytes: number;
}

/** One user's events of one day in a batch, and their ids: the list those are recorded in. */
interface DayOfUser {
  readonly key: string;
  readonly subjectHash: string;
  readonly day: number;
  readonly events: StoredEvent[];
  /** The events' ids in lower case, in the same order. */
  readonly ids: string[];
  readonly distinct: Set<string>;
}

/** A batch's events grouped by user and day, each event id once per user (`unique`). */
export interface EventIdPlan {
  readonly unique: readonly StoredEvent[];
  readonly days: readonly DayOfUser[];
  /** The ids recorded for each key before this batch, as `unseen` found them: what `record` adds to. */
  readonly recorded: Map<string, Set<string>>;
  /** The planned events `unseen` found counted already or erased: what `record` leaves out. */
  readonly skipped: Set<StoredEvent>;
}

const keyOf = (subjectHash: string, day: number) => `${subjectHash}:${day}`;

/** A uuid in its 16 bytes' hex (its text without the dashes), and back. */
const hexOf = (uuid: string) => uuid.slice(0, 8) + uuid.slice(9, 13) + uuid.slice(14, 18) + uuid.slice(19, 23) + uuid.slice(24);
function uuidsOf(bytes: Uint8Array): string[] {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  const uuids: string[] = [];
  for (let at = 0; at + 32 <= hex.length; at += 32) {
    uuids.push(`${hex.slice(at, at + 8)}-${hex.slice(at + 8, at + 12)}-${hex.slice(at + 12, at + 16)}-${hex.slice(at + 16, at + 20)}-${hex.slice(at + 20, at + 32)}`);
  }
  return uuids;
}

/**
 * The event ids the rollups have counted, kept per user and UTC day of occurrence: what makes a
 * batch delivered again, or an event a client sent twice, count once. An event sent again carries
 * the same user, id and time, so its list is the one to look in; a batch writes one row per user
 * and day it touches instead of one per event (the per-event row and its random-uuid index entry
 * were a fifth of the aggregate's CPU per event, bench/aggregate-throughput.ts).
 *
 * Used inside the rollup store's write, under its writer lock, with that write's number as the
 * lists' version. As with the feature states, the lists this writer wrote are kept (least recently
 * used dropped beyond `cacheBytes`) and a batch reads only the lists another writer changed since:
 * the stream is partitioned by user, so nearly every read finds nothing.
 */
export class EventIdWriter {
  private readonly lists: RecencyBoundedMap<HeldIds>;
  /** Whether lists of ids recorded before the lists by day may remain (unknown until asked). */
  private undated: boolean | undefined;

  constructor(cacheBytes = EVENT_ID_CACHE_BYTES) {
    this.lists = new RecencyBoundedMap(cacheBytes, (held) => held.bytes);
  }

  /** The batch's events by user and day, the later of two with the same id, user and day left out. */
  plan(events: readonly StoredEvent[], hashOf: (subject: string) => string): EventIdPlan {
    const byUser = new Map<string, Map<number, DayOfUser>>();
    const days: DayOfUser[] = [];
    const unique: StoredEvent[] = [];
    for (const event of events) {
      const day = Math.floor(instantMs(event.occurredAt) / DAY_MS);
      let ofUser = byUser.get(event.subject);
      if (!ofUser) byUser.set(event.subject, (ofUser = new Map<number, DayOfUser>()));
      let ofDay = ofUser.get(day);
      if (!ofDay) {
        const subjectHash = hashOf(event.subject);
        ofUser.set(day, (ofDay = { key: keyOf(subjectHash, day), subjectHash, day, events: [], ids: [], distinct: new Set() }));
        days.push(ofDay);
      }
      const id = event.eventId.toLowerCase();
      if (ofDay.distinct.has(id)) continue;
      ofDay.distinct.add(id);
      ofDay.events.push(event);
      ofDay.ids.push(id);
      unique.push(event);
    }
    return { unique, days, recorded: new Map(), skipped: new Set() };
  }

  /**
   * The planned events not counted before, in the batch's order (`plan.unique` itself when that is
   * all of them): neither in their user's list nor of a user erased after the event was received
   * (its events still in the stream, or replayed from it, bring nothing back).
   */
  async unseen(tx: SqlExecutor, plan: EventIdPlan): Promise<readonly StoredEvent[]> {
    if (plan.unique.length === 0) return [];
    this.undated ??= (await tx.query<{ undated: boolean }>(ANY_UNDATED)).rows[0]!.undated;
    const keys: { key: string; subjectHash: string; day: number }[] = [...plan.days];
    if (this.undated) for (const subjectHash of new Set(plan.days.map((ofDay) => ofDay.subjectHash))) keys.push({ key: keyOf(subjectHash, UNDATED), subjectHash, day: UNDATED });
    const held = keys.map(({ key }) => this.lists.get(key));
    const { rows } = await tx.query<{ i: number; ids: Uint8Array | null; version: number | null; erased_at: number | null }>(READ_CHANGED_IDS, [
      bareArray(keys.map((key) => key.subjectHash)),
      bareArray(keys.map((key) => key.day)),
      bareArray(held.map((list) => list?.version ?? 'NULL')),
    ]);
    held.forEach((list, i) => {
      if (list) plan.recorded.set(keys[i]!.key, list.ids);
    });
    const erasedAt = new Map<string, number>();
    for (const row of rows) {
      const { key, subjectHash } = keys[row.i - 1]!;
      if (row.erased_at !== null) erasedAt.set(subjectHash, row.erased_at);
      if (row.version === held[row.i - 1]?.version) continue;
      // Changed by another writer, or gone: what the database holds replaces what was held.
      if (row.ids === null || row.version === null) {
        plan.recorded.delete(key);
        this.lists.delete(key);
      } else {
        const ids = new Set(uuidsOf(row.ids));
        plan.recorded.set(key, ids);
        this.hold(key, ids, row.version);
      }
    }
    for (const { key, subjectHash, events, ids } of plan.days) {
      const ofDay = plan.recorded.get(key);
      const undated = plan.recorded.get(keyOf(subjectHash, UNDATED));
      const erased = erasedAt.get(subjectHash);
      events.forEach((event, i) => {
        if (ofDay?.has(ids[i]!) || undated?.has(ids[i]!) || (erased !== undefined && erased > instantMs(event.receivedAt))) plan.skipped.add(event);
      });
    }
    return plan.skipped.size === 0 ? plan.unique : plan.unique.filter((event) => !plan.skipped.has(event));
  }

  /** Adds the ids of the planned events `unseen` found new to their lists, as write `version`. */
  async record(tx: SqlExecutor, plan: EventIdPlan, version: number): Promise<void> {
    const { skipped } = plan;
    const written: { key: string; subjectHash: string; day: number; ids: string[] }[] = [];
    for (const { key, subjectHash, day, events, ids } of plan.days) {
      const added = skipped.size === 0 ? ids : ids.filter((_, i) => !skipped.has(events[i]!));
      if (added.length > 0) written.push({ key, subjectHash, day, ids: added });
    }
    if (written.length === 0) return;
    await tx.query(APPEND_IDS, [
      bareArray(written.map((list) => list.subjectHash)),
      bareArray(written.map((list) => list.day)),
      bareArray(written.map((list) => list.ids.map(hexOf).join(''))),
      version,
    ]);
    for (const { key, ids } of written) {
      const list = plan.recorded.get(key) ?? new Set<string>();
      for (const id of ids) list.add(id);
      this.hold(key, list, version);
    }
  }

  /** Drops every held list: after a failed write, whose lists may not have been stored, or a purge. */
  forget(): void {
    this.lists.clear();
    this.undated = undefined;
  }

  private hold(key: string, ids: Set<string>, version: number): void {
    this.lists.set(key, { ids, version, bytes: HEAP_BYTES_PER_LIST + ids.size * HEAP_BYTES_PER_ID });
  }
}
