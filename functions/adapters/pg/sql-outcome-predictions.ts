import type { FeatureState } from '../../domain/behaviour/features';
import type { OutcomeName } from '../../domain/behaviour/outcome-labels';
import type { OutcomeModel } from '../../domain/behaviour/outcome-model';
import type { CohortPrediction, LiveAccuracy } from '../../domain/behaviour/outcome-predictions';
import type { OutcomePredictionStore, StoredOutcomeModel, UserFeatureSource } from '../../ports/outcomes';
import type { SqlDatabase } from './database';

/** Rows a page of user features holds: a page of states is a few MB at most. */
const FEATURE_PAGE = 2_000;

/** Every user_features row by key order, a page at a time; the key is the subject hash, never the pseudonym. */
export class SqlUserFeatureSource implements UserFeatureSource {
  constructor(private readonly db: SqlDatabase) {}

  async *pages(): AsyncIterable<readonly (readonly [string, FeatureState])[]> {
    let after: string | null = null;
    for (;;) {
      const { rows }: { rows: { subject_hash: string; state: FeatureState }[] } = await this.db.query(
        `SELECT subject_hash::text AS subject_hash, state FROM user_features WHERE $1::int8 IS NULL OR subject_hash > $1::int8 ORDER BY subject_hash LIMIT ${FEATURE_PAGE}`,
        [after],
      );
      if (rows.length === 0) return;
      yield rows.map((row) => [row.subject_hash, row.state] as const);
      if (rows.length < FEATURE_PAGE) return;
      after = rows[rows.length - 1]!.subject_hash;
    }
  }
}

interface ModelRow {
  version: string;
  outcome: OutcomeName;
  trained_at: Date;
  model: OutcomeModel;
  live: LiveAccuracy | null;
}

interface PredictionRow {
  cohort: string;
  users: number;
  probability: number;
  ci95_low: number;
  ci95_high: number;
  known: number;
  actual: number | null;
}

export class SqlOutcomePredictionStore implements OutcomePredictionStore {
  constructor(private readonly db: SqlDatabase) {}

  async saveVersion(version: { version: string; trainedAt: Date; model: OutcomeModel }, predictions: readonly CohortPrediction[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO outcome_models (version, outcome, trained_at, model) VALUES ($1, $2, $3, $4::jsonb)`, [version.version, version.model.outcome, version.trainedAt, JSON.stringify(version.model)]);
      if (predictions.length === 0) return;
      await tx.query(
        `INSERT INTO outcome_predictions (version, cohort, users, probability, ci95_low, ci95_high, known, actual)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::float8[], $5::float8[], $6::float8[], $7::int[], $8::float8[])`,
        [
          version.version,
          predictions.map((row) => row.cohort),
          predictions.map((row) => row.users),
          predictions.map((row) => row.probability),
          predictions.map((row) => row.ci95[0]),
          predictions.map((row) => row.ci95[1]),
          predictions.map((row) => row.known),
          predictions.map((row) => row.actual),
        ],
      );
    });
  }

  async latest(outcome: OutcomeName): Promise<StoredOutcomeModel | undefined> {
    const { rows } = await this.db.query<ModelRow>(`SELECT version, outcome, trained_at, model, live FROM outcome_models WHERE outcome = $1 ORDER BY trained_at DESC, version DESC LIMIT 1`, [outcome]);
    const row = rows[0];
    if (!row) return undefined;
    return { version: row.version, outcome: row.outcome, trainedAt: new Date(row.trained_at).toISOString(), quality: row.model.quality, live: row.live, model: row.model };
  }

  async recordLive(version: string, live: LiveAccuracy): Promise<void> {
    await this.db.query(`UPDATE outcome_models SET live = $2::jsonb WHERE version = $1`, [version, JSON.stringify(live)]);
  }

  async predictions(version: string, cohort?: string): Promise<CohortPrediction[]> {
    const { rows } = await this.db.query<PredictionRow>(
      `SELECT cohort, users, probability, ci95_low, ci95_high, known, actual FROM outcome_predictions WHERE version = $1 AND ($2::text IS NULL OR cohort = $2) ORDER BY cohort`,
      [version, cohort ?? null],
    );
    return rows.map((row) => ({ cohort: row.cohort, users: row.users, probability: row.probability, ci95: [row.ci95_low, row.ci95_high], known: row.known, actual: row.actual }));
  }
}
