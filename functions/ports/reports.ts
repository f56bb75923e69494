import type { ReportDocument, ReportFormat } from '../domain/reports/document';

/** A generated report as the index keeps it; the file itself is in the object store. */
export interface ReportEntry {
  readonly id: string;
  readonly kind: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly role: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly summary: Readonly<Record<string, unknown>>;
  readonly objectKey: string;
  readonly contentType: string;
}

/** The report index (PostgreSQL). */
export interface ReportIndex {
  add(entry: ReportEntry): Promise<void>;
  get(id: string): Promise<ReportEntry | undefined>;
  /** Retention: removes the entries created before `cutoff`, answering their object keys. */
  purgeBefore(cutoff: Date): Promise<string[]>;
}

/** One format's renderer (functions/adapters/report-formats): any report document to a file's bytes. */
export interface ReportRenderer {
  readonly format: ReportFormat;
  readonly contentType: string;
  render(document: ReportDocument): Promise<Buffer>;
}
