import type { Direction } from '../../domain/anomaly/detector';
import type { DetectorName, DetectorState } from '../../domain/anomaly/watched-series';
import type { Anomaly, AnomalyQuery, AnomalyStore, DetectorStateStore, DetectorStateUpdate, StoredDetectorState } from '../../ports/anomalies';
import type { SqlDatabase, SqlExecutor } from './database';

const epochMs = (column: string) => `(date_part('epoch', ${column}) * 1000)::int8`;

// A state with no row yet is inserted only if no other invocation inserted it first; a stored one
// is replaced only while it still holds the minute it was loaded with. Either way, no row back:
// another invocation advanced it first.
const INSERT_STATE = `
  INSERT INTO detector_states (series, detector, state, last_minute) VALUES ($1, $2, $3::jsonb, to_timestamp($4::int8 / 1000))
  ON CONFLICT (series, detector) DO NOTHING RETURNING 1`;
const ADVANCE_STATE = `
  UPDATE detector_states SET state = $3::jsonb, last_minute = to_timestamp($4::int8 / 1000)
  WHERE series = $1 AND detector = $2 AND last_minute = to_timestamp($5::int8 / 1000) RETURNING 1`;

/** Thrown inside the transaction to roll back every update of a save another invocation beat. */
class Overtaken extends Error {}

export class SqlDetectorStateStore implements DetectorStateStore {
  constructor(private readonly db: SqlDatabase) {}

  async loadAll(): Promise<StoredDetectorState[]> {
    const { rows } = await this.db.query<{ series: string; detector: DetectorName; state: DetectorState; last_minute: number }>(
      `SELECT series, detector, state, ${epochMs('last_minute')} AS last_minute FROM detector_states`,
    );
    return rows.map((row) => ({ series: row.series, detector: row.detector, state: row.state, lastMinute: Number(row.last_minute) }));
  }

  async save(updates: readonly DetectorStateUpdate[]): Promise<boolean> {
    if (updates.length === 0) return true;
    try {
      await this.db.transaction(async (tx) => {
        for (const update of updates) if (!(await saveOne(tx, update))) throw new Overtaken();
      });
      return true;
    } catch (error) {
      if (error instanceof Overtaken) return false;
      throw error;
    }
  }
}

async function saveOne(tx: SqlExecutor, update: DetectorStateUpdate): Promise<boolean> {
  const state = JSON.stringify(update.state);
  const { rows } =
    update.previousMinute === null
      ? await tx.query(INSERT_STATE, [update.series, update.detector, state, update.lastMinute])
      : await tx.query(ADVANCE_STATE, [update.series, update.detector, state, update.lastMinute, update.previousMinute]);
  return rows.length === 1;
}

const RECORD = `
  INSERT INTO anomalies (series, detector, t, name, labels, value, expected, score, direction, users)
  SELECT series, detector, to_timestamp(t_ms / 1000), name, labels::jsonb, value, expected, score, direction, users
  FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::int4[])
    AS a(series, detector, t_ms, name, labels, value, expected, score, direction, users)
  ON CONFLICT (series, detector, t) DO NOTHING RETURNING 1`;

// $1 from, $2 to (epoch ms), $3 series or NULL, $4 limit, $5 least users or NULL.
const LIST = `
  SELECT series, detector, ${epochMs('t')} AS t, name, labels, value, expected, score, direction, users FROM anomalies
  WHERE t >= to_timestamp($1::int8 / 1000) AND t < to_timestamp($2::int8 / 1000)
    AND ($3::text IS NULL OR series = $3) AND ($5::int4 IS NULL OR users IS NULL OR users >= $5)
  ORDER BY t DESC, series, detector LIMIT $4`;

interface AnomalyRow {
  series: string;
  detector: DetectorName;
  t: number;
  name: string;
  labels: Record<string, string>;
  value: number;
  expected: number;
  score: number;
  direction: Direction;
  users: number | null;
}

export class SqlAnomalyStore implements AnomalyStore {
  constructor(private readonly db: SqlDatabase) {}

  async record(anomalies: readonly Anomaly[]): Promise<number> {
    if (anomalies.length === 0) return 0;
    const column = <T>(pick: (anomaly: Anomaly) => T) => anomalies.map(pick);
    const { rows } = await this.db.query(RECORD, [
      column((a) => a.series),
      column((a) => a.detector),
      column((a) => a.t.getTime()),
      column((a) => a.name),
      column((a) => JSON.stringify(a.labels)),
      column((a) => a.value),
      column((a) => a.expected),
      column((a) => a.score),
      column((a) => a.direction),
      column((a) => a.users),
    ]);
    return rows.length;
  }

  async list(query: AnomalyQuery): Promise<Anomaly[]> {
    const { rows } = await this.db.query<AnomalyRow>(LIST, [query.from.getTime(), query.to.getTime(), query.series ?? null, query.limit, query.minUsers ?? null]);
    return rows.map((row) => ({
      series: row.series,
      name: row.name,
      labels: row.labels,
      detector: row.detector,
      t: new Date(Number(row.t)),
      value: row.value,
      expected: row.expected,
      score: row.score,
      direction: row.direction,
      users: row.users,
    }));
  }
}
