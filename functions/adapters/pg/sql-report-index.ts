import type { ReportEntry, ReportIndex } from '../../ports/reports';
import type { SqlDatabase } from './database';

type Row = {
  id: string;
  kind: string;
  created_at: Date;
  created_by: string;
  role: string;
  parameters: Record<string, unknown>;
  summary: Record<string, unknown>;
  object_key: string;
  content_type: string;
};

export class SqlReportIndex implements ReportIndex {
  constructor(private readonly db: SqlDatabase) {}

  async add(entry: ReportEntry): Promise<void> {
    await this.db.query(
      'INSERT INTO reports (id, kind, created_at, created_by, role, parameters, summary, object_key, content_type) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)',
      [entry.id, entry.kind, entry.createdAt, entry.createdBy, entry.role, JSON.stringify(entry.parameters), JSON.stringify(entry.summary), entry.objectKey, entry.contentType],
    );
  }

  async purgeBefore(cutoff: Date): Promise<string[]> {
    const { rows } = await this.db.query<{ object_key: string }>('DELETE FROM reports WHERE created_at < $1 RETURNING object_key', [cutoff.toISOString()]);
    return rows.map((row) => row.object_key);
  }

  async get(id: string): Promise<ReportEntry | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM reports WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      kind: row.kind,
      createdAt: new Date(row.created_at).toISOString(),
      createdBy: row.created_by,
      role: row.role,
      parameters: row.parameters,
      summary: row.summary,
      objectKey: row.object_key,
      contentType: row.content_type,
    };
  }
}
