import { createHash } from 'node:crypto';

/** What an audited call did (GDPR Art. 30 records of processing; HIPAA §164.312(b) audit controls). */
export const AUDIT_ACTIONS = ['read', 'export', 'consent', 'erase', 'configure'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Why a caller reads or changes data (header `x-purpose`), after HL7's PurposeOfUse: a closed
 * list, so the trail records a reason and never free text.
 */
export const AUDIT_PURPOSES = ['treatment', 'safety_monitoring', 'quality_improvement', 'operations', 'research', 'public_health', 'legal', 'data_subject_request', 'audit'] as const;
export type AuditPurpose = (typeof AUDIT_PURPOSES)[number];

export function isAuditPurpose(value: string): value is AuditPurpose {
  return (AUDIT_PURPOSES as readonly string[]).includes(value);
}

/** One entry as the caller describes it: never a user's id or pseudonym, only who acted and on what. */
export interface AuditRecord {
  readonly at: string;
  /** The token's subject: the person or service that called. */
  readonly actor: string;
  readonly role: string;
  readonly action: AuditAction;
  /** The route, e.g. `GET /v1/metrics/{metric}`. */
  readonly resource: string;
  readonly purpose: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditEntry extends AuditRecord {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

/** An entry as stored: `body` is the record's canonical JSON, hashed byte for byte. */
export interface StoredAuditEntry {
  readonly seq: number;
  readonly body: string;
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth: one text per value, so its hash is stable. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The same formula the append statement computes in SQL (functions/adapters/pg/sql-audit-log.ts). */
export function chainHash(prevHash: string, seq: number, body: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${body}`, 'utf8').digest('hex');
}

export interface ChainEnds {
  /** The last entry removed by the retention purge: the first kept entry chains to it. */
  readonly anchor: { readonly seq: number; readonly hash: string };
  /** The tail as the head row records it: entries cut from the end no longer reach it. */
  readonly head: { readonly seq: number; readonly hash: string };
}

export type ChainVerdict =
  | { readonly ok: true; readonly entries: number }
  | { readonly ok: false; readonly entries: number; readonly seq: number; readonly problem: string };

/**
 * Walks the entries in `seq` order from the anchor to the head. An edited entry fails its own
 * hash; a removed one leaves a gap and breaks the next entry's link; a reordered pair breaks the
 * links at both places; a cut tail falls short of the head.
 */
export async function verifyChain(entries: Iterable<StoredAuditEntry> | AsyncIterable<StoredAuditEntry>, ends: ChainEnds): Promise<ChainVerdict> {
  let expectedSeq = ends.anchor.seq + 1;
  let prevHash = ends.anchor.hash;
  let count = 0;
  for await (const entry of entries) {
    const broken = (problem: string): ChainVerdict => ({ ok: false, entries: count, seq: entry.seq, problem });
    if (entry.seq !== expectedSeq) return broken(`expected entry ${expectedSeq} here, found ${entry.seq}: entries are missing or out of order`);
    if (entry.prevHash !== prevHash) return broken('does not chain to the entry before it: an entry before it was changed, removed or moved');
    if (chainHash(entry.prevHash, entry.seq, entry.body) !== entry.hash) return broken('its hash does not match its content: the entry was changed');
    prevHash = entry.hash;
    expectedSeq += 1;
    count += 1;
  }
  if (expectedSeq - 1 !== ends.head.seq || prevHash !== ends.head.hash) {
    return { ok: false, entries: count, seq: expectedSeq, problem: `the chain ends at entry ${expectedSeq - 1} but the head records ${ends.head.seq}: entries were cut from the end` };
  }
  return { ok: true, entries: count };
}

export function parseAuditEntry(stored: StoredAuditEntry): AuditEntry {
  return { ...(JSON.parse(stored.body) as AuditRecord), seq: stored.seq, prevHash: stored.prevHash, hash: stored.hash };
}
