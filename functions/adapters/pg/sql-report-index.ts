import type { ReportFormat, ReportKind } from '../../domain/reports/document';
import type { ReportPeriodBounds } from '../../domain/reports/schedule';
import type { NewReportRun, ReportDelivery, ReportFile, ReportIndex, ReportListQuery, ReportProgress, ReportRun, ReportStatus } from '../../ports/reports';
import type { SqlDatabase } from './database';

type Row = {
  id: string;
  kind: ReportKind;
  status: ReportStatus;
  period: ReportPeriodBounds;
  formats: ReportFormat[];
  created_at: Date;
  created_by: string;
  role: string;
  schedule_id: string | null;
  test: boolean;
  parameters: Record<string, unknown>;
  release: unknown;
  summary: Record<string, unknown>;
  version: number | null;
  data_through: Date | null;
  files: ReportFile[];
  deliveries: ReportDelivery[];
  progress: ReportProgress | null;
  error: { code: string; message: string } | null;
  updated_at: Date;
};

const iso = (value: Date) => new Date(value).toISOString();

function runOf(row: Row): ReportRun {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    period: row.period,
    formats: row.formats,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    role: row.role,
    scheduleId: row.schedule_id,
    test: row.test,
    parameters: row.parameters,
    release: row.release,
    summary: row.summary,
    version: row.version,
    dataThrough: row.data_through === null ? null : iso(row.data_through),
    files: row.files,
    deliveries: row.deliveries,
    progress: row.progress,
    error: row.error,
    updatedAt: iso(row.updated_at),
  };
}

/** The list's cursor: the last run's (created_at, id), opaque to clients. */
const cursorOf = (run: ReportRun) => Buffer.from(JSON.stringify([run.createdAt, run.id])).toString('base64url');

function positionOf(cursor: string): [string, string] {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)) && typeof id === 'string') return [createdAt, id];
  } catch {
    // Falls through to the RangeError: not a cursor this index gave.
  }
  throw new RangeError('is not a cursor this list gave');
}

export class SqlReportIndex implements ReportIndex {
  constructor(private readonly db: SqlDatabase) {}

  async add(run: NewReportRun): Promise<void> {
    await this.db.query(
      `INSERT INTO reports (id, kind, status, period, period_label, formats, created_at, created_by, role, schedule_id, test, parameters, release, summary, updated_at)
       VALUES ($1, $2, 'queued', $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb, $6)
       ON CONFLICT (id) DO NOTHING`,
      [
        run.id,
        run.kind,
        JSON.stringify(run.period),
        run.period.label,
        run.formats,
        run.createdAt,
        run.createdBy,
        run.role,
        run.scheduleId,
        run.test,
        JSON.stringify(run.parameters),
        run.release === null ? null : JSON.stringify(run.release),
        JSON.stringify(run.summary),
      ],
    );
  }

  async get(id: string): Promise<ReportRun | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM reports WHERE id = $1', [id]);
    return rows[0] && runOf(rows[0]);
  }

  async list(query: ReportListQuery): Promise<{ runs: ReportRun[]; cursor: string | null }> {
    const after = query.cursor === undefined ? undefined : positionOf(query.cursor);
    // One more than asked: whether there is a next page, without a count.
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM reports
       WHERE ($1::text IS NULL OR kind = $1) AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [query.kind ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
    );
    const runs = rows.slice(0, query.limit).map(runOf);
    return { runs, cursor: rows.length > query.limit ? cursorOf(runs[runs.length - 1]!) : null };
  }

  async start(id: string, now: Date, staleAfterMs: number): Promise<ReportRun | undefined> {
    const { rows } = await this.db.query<Row>(
      `UPDATE reports SET status = 'running', updated_at = $2, error = NULL
       WHERE id = $1 AND (status = 'queued' OR (status = 'running' AND updated_at < $3))
       RETURNING *`,
      [id, now.toISOString(), new Date(now.getTime() - staleAfterMs).toISOString()],
    );
    return rows[0] && runOf(rows[0]);
  }

  async progress(id: string, progress: ReportProgress, now: Date): Promise<void> {
    await this.db.query(`UPDATE reports SET progress = $2::jsonb, updated_at = $3 WHERE id = $1 AND status = 'running'`, [id, JSON.stringify(progress), now.toISOString()]);
  }

  async nextVersion(kind: ReportKind, periodLabel: string): Promise<number> {
    const { rows } = await this.db.query<{ last_version: number }>(
      `INSERT INTO report_versions (kind, period_label, last_version) VALUES ($1, $2, 1)
       ON CONFLICT (kind, period_label) DO UPDATE SET last_version = report_versions.last_version + 1
       RETURNING last_version`,
      [kind, periodLabel],
    );
    return rows[0]!.last_version;
  }

  async finish(id: string, made: { version: number; dataThrough: string | null; files: readonly ReportFile[]; summary: Readonly<Record<string, unknown>> }, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE reports SET status = 'done', version = $2, data_through = $3, files = $4::jsonb, summary = $5::jsonb, progress = NULL, error = NULL, updated_at = $6 WHERE id = $1`,
      [id, made.version, made.dataThrough, JSON.stringify(made.files), JSON.stringify(made.summary), now.toISOString()],
    );
  }

  async fail(id: string, error: { code: string; message: string }, now: Date): Promise<void> {
    await this.db.query(`UPDATE reports SET status = 'failed', error = $2::jsonb, progress = NULL, updated_at = $3 WHERE id = $1`, [id, JSON.stringify(error), now.toISOString()]);
  }

  async addDelivery(id: string, delivery: ReportDelivery): Promise<void> {
    await this.db.query(`UPDATE reports SET deliveries = deliveries || $2::jsonb WHERE id = $1`, [id, JSON.stringify([delivery])]);
  }

  async purgeBefore(cutoff: Date): Promise<string[]> {
    const { rows } = await this.db.query<{ files: ReportFile[] }>('DELETE FROM reports WHERE created_at < $1 RETURNING files', [cutoff.toISOString()]);
    return rows.flatMap((row) => row.files.map((file) => file.objectKey));
  }
}
