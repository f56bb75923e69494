import type { CohortDefinition, CohortSubject } from '../../domain/behaviour/cohorts';
import type { FeatureState } from '../../domain/behaviour/features';
import type { Platform } from '../../domain/events/schema';
import type { CohortPopulation, CohortStore, StoredCohort } from '../../ports/cohorts';
import type { SqlExecutor } from './database';

type CohortRow = { id: string; name: string; definition: CohortDefinition; created_at: Date; created_by: string };

export class SqlCohortStore implements CohortStore {
  constructor(private readonly db: SqlExecutor) {}

  async add(cohort: StoredCohort): Promise<void> {
    await this.db.query('INSERT INTO cohorts (id, name, definition, created_at, created_by) VALUES ($1, $2, $3::jsonb, $4, $5)', [
      cohort.id,
      cohort.name,
      JSON.stringify(cohort.definition),
      cohort.createdAt,
      cohort.createdBy,
    ]);
  }

  async list(): Promise<StoredCohort[]> {
    const { rows } = await this.db.query<CohortRow>('SELECT id, name, definition, created_at, created_by FROM cohorts ORDER BY created_at, id');
    return rows.map((row) => ({ id: row.id, name: row.name, definition: row.definition, createdAt: new Date(row.created_at).toISOString(), createdBy: row.created_by }));
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ count: string }>('SELECT count(*)::text AS count FROM cohorts');
    return Number(rows[0]?.count ?? 0);
  }
}

type SubjectRow = { key: string; first_at: number; platform: Platform | null; days: number[] };

/** The users cohorts select from, read from `user_features`: only the facts a definition needs leave the database. */
export class SqlCohortPopulation implements CohortPopulation {
  constructor(private readonly db: SqlExecutor) {}

  async subjects(): Promise<CohortSubject[]> {
    const { rows } = await this.db.query<SubjectRow>(
      `SELECT subject_hash::text AS key, (state->>'firstAt')::float8 AS first_at, state->'platform'->>'value' AS platform, state->'days' AS days
         FROM user_features`,
    );
    return rows.map((row) => ({ key: row.key, firstAt: Number(row.first_at), platform: row.platform, activeDays: row.days }));
  }

  async patternMembers(patternIds: readonly string[]): Promise<Map<string, string[]>> {
    const { rows } = await this.db.query<{ pattern_id: string; members: string[] }>(
      'SELECT pattern_id, array_agg(subject_hash::text) AS members FROM user_pattern_assignments WHERE pattern_id = ANY($1::text[]) GROUP BY pattern_id',
      [patternIds],
    );
    return new Map(rows.map((row) => [row.pattern_id, row.members]));
  }

  async states(keys: readonly string[]): Promise<Map<string, FeatureState>> {
    const { rows } = await this.db.query<{ key: string; state: FeatureState }>('SELECT subject_hash::text AS key, state FROM user_features WHERE subject_hash = ANY($1::int8[])', [keys]);
    return new Map(rows.map((row) => [row.key, row.state]));
  }
}
