import type { AuditEntry, AuditRecord, ChainVerdict } from '../domain/privacy/audit';

/** The append-only, hash-chained audit trail (PostgreSQL). */
export interface AuditLog {
  append(record: AuditRecord): Promise<{ readonly seq: number; readonly hash: string }>;
  /** Newest first; `beforeSeq` pages back. */
  list(options: { readonly beforeSeq?: number; readonly limit: number }): Promise<AuditEntry[]>;
  /** Re-hashes the whole chain from the anchor to the head. */
  verify(): Promise<ChainVerdict>;
  /** Retention: removes entries recorded before `cutoff` (oldest first) and anchors the chain at the last removed. */
  purgeBefore(cutoff: Date): Promise<number>;
}
