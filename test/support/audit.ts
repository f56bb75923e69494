import type { AuditEntry, AuditRecord, ChainVerdict } from '../../functions/domain/privacy/audit';
import type { AuditLog } from '../../functions/ports/audit';

/** An audit log for handler tests: keeps what was appended, or fails every append when told to. */
export class RecordingAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  failing = false;

  async append(record: AuditRecord): Promise<{ seq: number; hash: string }> {
    if (this.failing) throw new Error('database unavailable');
    this.records.push(record);
    return { seq: this.records.length, hash: String(this.records.length) };
  }
  async list(): Promise<AuditEntry[]> {
    throw new Error('not used by handler tests');
  }
  async verify(): Promise<ChainVerdict> {
    throw new Error('not used by handler tests');
  }
  async purgeBefore(): Promise<number> {
    throw new Error('not used by handler tests');
  }
}
