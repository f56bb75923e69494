import type { CohortDefinition, CohortSubject } from '../domain/behaviour/cohorts';
import type { FeatureState } from '../domain/behaviour/features';

/** A stored cohort definition. `createdBy` is the staff caller's token subject, never a patient. */
export interface StoredCohort {
  readonly id: string;
  readonly name: string;
  readonly definition: CohortDefinition;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** Cohort definitions (PostgreSQL), oldest first: the release rule decides them in that order. */
export interface CohortStore {
  add(cohort: StoredCohort): Promise<void>;
  list(): Promise<StoredCohort[]>;
  count(): Promise<number>;
}

/** The pseudonymous users cohorts select from, as their feature rows hold them. */
export interface CohortPopulation {
  /** Every user with a feature row, keyed by the row's subject hash. */
  subjects(): Promise<CohortSubject[]>;
  /** The members (keys) of each of these archetype patterns, as their fit assigned them. */
  patternMembers(patternIds: readonly string[]): Promise<Map<string, string[]>>;
  /** The feature states of these users (by key) that still have one. */
  states(keys: readonly string[]): Promise<Map<string, FeatureState>>;
}
