import type { ConditionState } from '../../domain/alerting/evaluate';
import { INITIAL_CONDITION } from '../../domain/alerting/evaluate';
import type { Subject } from '../../domain/alerting/model';
import type { AtRiskUser, ConditionFilter, ConditionStore, StoredCondition } from '../../ports/alert-rules';
import type { SqlDatabase } from './database';

type Row = { rule_id: string; subject_kind: Subject['kind']; subject_id: string; version: number; state: ConditionState };

const COLUMNS = 'rule_id, subject_kind, subject_id, version, state';
const toStored = (row: Row): StoredCondition => ({
  ruleId: row.rule_id,
  subject: { kind: row.subject_kind, id: row.subject_id },
  state: row.state,
  version: Number(row.version),
});
const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** What the tick selects on, copied out of the state: see 008-alert-rules.sql. */
const derived = (state: ConditionState): unknown[] => [
  state.holds && !state.active,
  state.active,
  iso(state.lastAt),
  iso(state.atRisk?.since),
  iso(state.atRisk?.until),
];

const INSERT = `INSERT INTO alert_conditions (rule_id, subject_kind, subject_id, version, state, pending, active, last_at, at_risk_since, at_risk_until)
  VALUES ($1, $2, $3, 1, $4::jsonb, $5, $6, $7, $8, $9)
  ON CONFLICT (rule_id, subject_kind, subject_id) DO NOTHING RETURNING 1`;
const UPDATE = `UPDATE alert_conditions
  SET version = version + 1, state = $4::jsonb, pending = $5, active = $6, last_at = $7, at_risk_since = $8, at_risk_until = $9, updated_at = now()
  WHERE rule_id = $1 AND subject_kind = $2 AND subject_id = $3 AND version = $10 RETURNING 1`;

export class SqlConditionStore implements ConditionStore {
  constructor(private readonly db: SqlDatabase) {}

  async get(ruleId: string, subject: Subject): Promise<StoredCondition> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM alert_conditions WHERE rule_id = $1 AND subject_kind = $2 AND subject_id = $3`, [ruleId, subject.kind, subject.id]);
    const row = rows[0];
    return row ? toStored(row) : { ruleId, subject, state: INITIAL_CONDITION, version: 0 };
  }

  async getMany(ruleIds: readonly string[], subject: Subject): Promise<StoredCondition[]> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM alert_conditions WHERE rule_id = ANY($1::text[]) AND subject_kind = $2 AND subject_id = $3`, [
      [...ruleIds],
      subject.kind,
      subject.id,
    ]);
    return rows.map(toStored);
  }

  async save(ruleId: string, subject: Subject, state: ConditionState, expectedVersion: number): Promise<boolean> {
    const params = [ruleId, subject.kind, subject.id, JSON.stringify(state), ...derived(state)];
    const { rows } = expectedVersion === 0 ? await this.db.query(INSERT, params) : await this.db.query(UPDATE, [...params, expectedVersion]);
    return rows.length === 1;
  }

  async list(ruleId: string, filter: ConditionFilter): Promise<StoredCondition[]> {
    const { rows } =
      filter === 'pending' || filter === 'active'
        ? await this.db.query<Row>(`SELECT ${COLUMNS} FROM alert_conditions WHERE rule_id = $1 AND ${filter}`, [ruleId])
        : await this.db.query<Row>(`SELECT ${COLUMNS} FROM alert_conditions WHERE rule_id = $1 AND NOT active AND last_at < $2`, [ruleId, filter.quietBefore.toISOString()]);
    return rows.map(toStored);
  }

  async atRisk(at: Date): Promise<AtRiskUser[]> {
    const { rows } = await this.db.query<{ subject_id: string; since: Date; until: Date }>(
      `SELECT subject_id, min(at_risk_since) AS since, max(at_risk_until) AS until FROM alert_conditions
       WHERE subject_kind = 'user' AND at_risk_until > $1 GROUP BY subject_id`,
      [at.toISOString()],
    );
    return rows.map((row) => ({ subject: { kind: 'user', id: row.subject_id }, since: new Date(row.since), until: new Date(row.until) }));
  }

  async eraseSubject(subject: Subject): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      'WITH gone AS (DELETE FROM alert_conditions WHERE subject_kind = $1 AND subject_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [subject.kind, subject.id],
    );
    return rows[0]?.n ?? 0;
  }

  async purgeIdleBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM alert_conditions
         WHERE updated_at < $1 AND NOT pending AND NOT active AND (at_risk_until IS NULL OR at_risk_until < $1)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [cutoff.toISOString()],
    );
    return rows[0]?.n ?? 0;
  }
}
