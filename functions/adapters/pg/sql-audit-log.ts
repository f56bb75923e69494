import { canonicalJson, parseAuditEntry, verifyChain, type AuditEntry, type AuditRecord, type ChainVerdict, type StoredAuditEntry } from '../../domain/privacy/audit';
import type { AuditLog } from '../../ports/audit';
import type { SqlDatabase } from './database';

/**
 * One statement per append: it locks the head row (appends from every function serialise there),
 * hashes the entry onto the chain in SQL, moves the head and inserts the entry, so a crash leaves
 * either the whole append or none of it. The hash formula is `chainHash` in the domain.
 */
const APPEND = `
WITH old AS (SELECT seq, hash FROM audit_head FOR UPDATE),
moved AS (
  UPDATE audit_head h
  SET seq = old.seq + 1,
      hash = encode(sha256(convert_to(old.hash || E'\\n' || (old.seq + 1)::text || E'\\n' || $1::text, 'UTF8')), 'hex')
  FROM old
  RETURNING h.seq, h.hash, old.hash AS prev_hash
)
INSERT INTO audit_log (seq, body, prev_hash, hash) SELECT seq, $1, prev_hash, hash FROM moved RETURNING seq, hash`;

const VERIFY_PAGE = 5_000;

type EntryRow = { seq: number; body: string; prev_hash: string; hash: string };
const toStored = (row: EntryRow): StoredAuditEntry => ({ seq: Number(row.seq), body: row.body, prevHash: row.prev_hash, hash: row.hash });

export class SqlAuditLog implements AuditLog {
  constructor(private readonly db: SqlDatabase) {}

  async append(record: AuditRecord): Promise<{ seq: number; hash: string }> {
    const { rows } = await this.db.query<{ seq: number; hash: string }>(APPEND, [canonicalJson(record)]);
    const row = rows[0];
    if (!row) throw new Error('audit append wrote no entry');
    return { seq: Number(row.seq), hash: row.hash };
  }

  async list(options: { beforeSeq?: number; limit: number }): Promise<AuditEntry[]> {
    const { rows } = await this.db.query<EntryRow>(
      'SELECT seq, body, prev_hash, hash FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2',
      [options.beforeSeq ?? Number.MAX_SAFE_INTEGER, options.limit],
    );
    return rows.map((row) => parseAuditEntry(toStored(row)));
  }

  async verify(): Promise<ChainVerdict> {
    // Head first: entries appended while the walk runs lie past it and are left for the next run.
    const { rows: heads } = await this.db.query<{ seq: number; hash: string; anchor_seq: number; anchor_hash: string }>('SELECT seq, hash, anchor_seq, anchor_hash FROM audit_head');
    const head = heads[0];
    if (!head) return { ok: false, entries: 0, seq: 0, problem: 'the audit head row is missing' };
    const db = this.db;
    async function* entries(): AsyncGenerator<StoredAuditEntry> {
      for (let after = Number(head!.anchor_seq) - 1; ; ) {
        const { rows } = await db.query<EntryRow>('SELECT seq, body, prev_hash, hash FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3', [after, head!.seq, VERIFY_PAGE]);
        yield* rows.map(toStored);
        if (rows.length < VERIFY_PAGE) return;
        after = Number(rows[rows.length - 1]!.seq);
      }
    }
    return verifyChain(entries(), { anchor: { seq: Number(head.anchor_seq), hash: head.anchor_hash }, head: { seq: Number(head.seq), hash: head.hash } });
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM audit_head FOR UPDATE');
      // Oldest first and only a prefix: the kept entries still chain, to the new anchor.
      const { rows } = await tx.query<{ seq: number; hash: string }>(
        `SELECT seq, hash FROM audit_log
         WHERE seq <= (SELECT coalesce(min(seq), 9223372036854775807) - 1 FROM audit_log WHERE (body::jsonb ->> 'at')::timestamptz >= $1)
         ORDER BY seq DESC LIMIT 1`,
        [cutoff.toISOString()],
      );
      const last = rows[0];
      if (!last) return 0;
      await tx.query("SELECT set_config('audit.retention_purge', 'on', true)");
      const deleted = await tx.query<{ n: number }>('WITH gone AS (DELETE FROM audit_log WHERE seq <= $1 RETURNING 1) SELECT count(*)::int AS n FROM gone', [last.seq]);
      await tx.query("SELECT set_config('audit.retention_purge', 'off', true)");
      await tx.query('UPDATE audit_head SET anchor_seq = $1, anchor_hash = $2', [last.seq, last.hash]);
      return deleted.rows[0]?.n ?? 0;
    });
  }
}
