import type { MinuteValue, OperationalMinutes } from '../../domain/anomaly/watched-series';
import type { OperationalMinuteHistory } from '../../ports/anomalies';
import { bareArray } from './array-literals';
import type { SqlDatabase } from './database';

// A minute read again (a watch that redoes a run) carries the same values: the last read wins.
const KEEP = `
  INSERT INTO operational_minutes (minute, ingest_errors, ingest_latency_p95_ms)
  SELECT to_timestamp(t / 1000), errors, p95 FROM unnest($1::int8[], $2::float8[], $3::float8[]) AS m(t, errors, p95)
  ON CONFLICT (minute) DO UPDATE SET ingest_errors = excluded.ingest_errors, ingest_latency_p95_ms = excluded.ingest_latency_p95_ms`;
const READ = `
  SELECT (date_part('epoch', minute) * 1000)::int8 AS t, ingest_errors, ingest_latency_p95_ms FROM operational_minutes
  WHERE minute >= to_timestamp($1::int8 / 1000) AND minute < to_timestamp($2::int8 / 1000) ORDER BY minute`;

/** The ingest minutes the series watch has read, kept past the live source's own horizon. */
export class SqlOperationalMinutes implements OperationalMinuteHistory {
  constructor(private readonly db: SqlDatabase) {}

  async keep(minutes: OperationalMinutes): Promise<void> {
    const byMinute = new Map<number, { errors: number | null; p95: number | null }>();
    const at = (t: number) => byMinute.get(t) ?? byMinute.set(t, { errors: null, p95: null }).get(t)!;
    for (const { t, value } of minutes.ingestErrors) at(t).errors = value;
    for (const { t, value } of minutes.ingestLatencyP95Ms) at(t).p95 = value;
    if (byMinute.size === 0) return;
    const rows = [...byMinute];
    await this.db.query(KEEP, [
      bareArray(rows.map(([t]) => t)),
      bareArray(rows.map(([, row]) => row.errors ?? 'NULL')),
      bareArray(rows.map(([, row]) => row.p95 ?? 'NULL')),
    ]);
  }

  async readMinutes(from: number, to: number): Promise<OperationalMinutes> {
    const { rows } = await this.db.query<{ t: string; ingest_errors: number | null; ingest_latency_p95_ms: number | null }>(READ, [from, to]);
    const ingestErrors: MinuteValue[] = [];
    const ingestLatencyP95Ms: MinuteValue[] = [];
    for (const row of rows) {
      if (row.ingest_errors !== null) ingestErrors.push({ t: Number(row.t), value: row.ingest_errors });
      if (row.ingest_latency_p95_ms !== null) ingestLatencyP95Ms.push({ t: Number(row.t), value: row.ingest_latency_p95_ms });
    }
    return { ingestErrors, ingestLatencyP95Ms };
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('WITH gone AS (DELETE FROM operational_minutes WHERE minute < $1 RETURNING 1) SELECT count(*)::int4 AS n FROM gone', [cutoff]);
    return rows[0]?.n ?? 0;
  }
}
