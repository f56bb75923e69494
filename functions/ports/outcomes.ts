import type { FeatureState } from '../domain/behaviour/features';
import type { OutcomeName } from '../domain/behaviour/outcome-labels';
import type { OutcomeModel } from '../domain/behaviour/outcome-model';
import type { CohortPrediction, LiveAccuracy, ModelVersionView } from '../domain/behaviour/outcome-predictions';

/**
 * Which cohorts these users belong to: cohort id to its members among them. Stored cohort
 * definitions plug in here (storedCohortMemberships); wholePopulation puts every user in "all" alone.
 */
export interface CohortMemberships {
  cohortsOf(users: readonly (readonly [string, FeatureState])[]): Promise<ReadonlyMap<string, readonly string[]>>;
}

export interface StoredOutcomeModel extends ModelVersionView {
  readonly model: OutcomeModel;
}

/**
 * Model versions and their per-cohort predictions (PostgreSQL). Holds no individual's score: a
 * prediction row is a cohort's aggregate.
 */
export interface OutcomePredictionStore {
  /** Saves a new version and its cohorts' predictions, together. */
  saveVersion(version: { readonly version: string; readonly trainedAt: Date; readonly model: OutcomeModel }, predictions: readonly CohortPrediction[]): Promise<void>;
  latest(outcome: OutcomeName): Promise<StoredOutcomeModel | undefined>;
  recordLive(version: string, live: LiveAccuracy): Promise<void>;
  /** The version's predictions, of one cohort or all. */
  predictions(version: string, cohort?: string): Promise<CohortPrediction[]>;
}
