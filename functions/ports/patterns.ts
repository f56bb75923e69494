import type { FeatureState } from '../domain/behaviour/features';
import type { PatternModel } from '../domain/behaviour/patterns';

/** Every user's feature state, a page at a time (the fit never holds all rows' JSON at once). */
export interface FeatureStateSource {
  pages(pageSize: number): AsyncIterable<readonly FeatureState[]>;
}

/** The pattern models' fits (user_behavior_patterns). */
export interface PatternStore {
  /** Adds a version; older ones beyond the few kept are dropped. */
  save(model: PatternModel): Promise<void>;
  /** The newest version, or null before the first fit. */
  latest(): Promise<PatternModel | null>;
}
