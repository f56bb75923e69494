import type { PatternModel } from '../domain/behaviour/patterns';

/** The pattern models' fits (user_behavior_patterns). */
export interface PatternStore {
  /** Adds a version; older ones beyond the few kept are dropped. */
  save(model: PatternModel): Promise<void>;
  /** The newest version, or null before the first fit. */
  latest(): Promise<PatternModel | null>;
}
