import type { OutcomeName } from '../../domain/behaviour/outcome-labels';
import type { OutcomeModel } from '../../domain/behaviour/outcome-model';
import type { CohortPrediction, LiveAccuracy } from '../../domain/behaviour/outcome-predictions';
import type { OutcomePredictionStore, StoredOutcomeModel } from '../../ports/outcomes';
import type { SqlDatabase } from './database';

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
