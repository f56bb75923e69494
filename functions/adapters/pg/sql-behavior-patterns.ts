import type { BehaviourPattern, PatternKind, PatternModel } from '../../domain/behaviour/patterns';
import type { PatternStore } from '../../ports/patterns';
import type { SqlDatabase } from './database';

/** Versions kept: last night's and a few before it, to compare a new fit with. */
const KEPT_VERSIONS = 7;

const INSERT_PATTERNS = `
  INSERT INTO user_behavior_patterns (version, id, kind, users, position, pattern)
  SELECT $1, p.id, p.kind, p.users, p.position, p.pattern
  FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::jsonb[]) AS p(id, kind, users, position, pattern)`;

const INSERT_ASSIGNMENTS = `
  INSERT INTO user_pattern_assignments (version, subject_hash, pattern_id)
  SELECT $1, a.subject_hash, a.pattern_id FROM unnest($2::int8[], $3::text[]) AS a(subject_hash, pattern_id)`;

// Past the newest few, a version goes unless a cohort's definition names one of its patterns
// (at any depth of its \`all\` parts): its members would be gone with it.
const DROP_OLD_VERSIONS = `
  DELETE FROM behavior_pattern_models
  WHERE version NOT IN (SELECT version FROM behavior_pattern_models ORDER BY trained_at DESC, version DESC LIMIT ${KEPT_VERSIONS})
    AND version NOT IN (
      SELECT p.version FROM user_behavior_patterns p
      WHERE p.id IN (SELECT jsonb_path_query(c.definition, 'strict $.**.pattern') #>> '{}' FROM cohorts c))`;

export class SqlPatternStore implements PatternStore {
  constructor(private readonly db: SqlDatabase) {}

  async save({ model, patterns }: PatternModel, assignments: ReadonlyMap<string, string>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO behavior_pattern_models (version, trained_at, users, k, silhouette) VALUES ($1, $2, $3, $4, $5)', [model.version, model.trainedAt, model.users, model.k, model.silhouette]);
      await tx.query(INSERT_PATTERNS, [
        model.version,
        patterns.map((pattern) => pattern.id),
        patterns.map((pattern) => pattern.kind),
        patterns.map((pattern) => pattern.users),
        patterns.map((_, i) => i),
        patterns.map((pattern) => JSON.stringify(pattern)),
      ]);
      await tx.query(INSERT_ASSIGNMENTS, [model.version, [...assignments.keys()], [...assignments.values()]]);
      await tx.query(DROP_OLD_VERSIONS);
    });
  }

  async latest(): Promise<PatternModel | null> {
    const { rows: models } = await this.db.query<{ version: string; trained_at: Date | string; users: number; k: number; silhouette: number | null }>(
      'SELECT version, trained_at, users, k, silhouette FROM behavior_pattern_models ORDER BY trained_at DESC, version DESC LIMIT 1',
    );
    const model = models[0];
    if (!model) return null;
    const { rows } = await this.db.query<{ pattern: BehaviourPattern }>('SELECT pattern FROM user_behavior_patterns WHERE version = $1 ORDER BY position', [model.version]);
    return {
      model: { version: model.version, trainedAt: new Date(model.trained_at).toISOString(), users: model.users, k: model.k, silhouette: model.silhouette === null ? null : Number(model.silhouette) },
      patterns: rows.map((row) => row.pattern),
    };
  }

  async kindsOf(ids: readonly string[]): Promise<Map<string, PatternKind>> {
    const { rows } = await this.db.query<{ id: string; kind: PatternKind }>('SELECT DISTINCT id, kind FROM user_behavior_patterns WHERE id = ANY($1::text[])', [ids]);
    return new Map(rows.map((row) => [row.id, row.kind]));
  }
}
