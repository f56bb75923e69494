import type { PatternKind, PatternModel } from '../domain/behaviour/patterns';

/** The pattern models' fits (user_behavior_patterns, user_pattern_assignments). */
export interface PatternStore {
  /**
   * Adds a version with the archetype the fit put each user in (user key -> pattern id). Older
   * versions beyond the few kept are dropped, unless a stored cohort is defined by one of their patterns.
   */
  save(model: PatternModel, assignments: ReadonlyMap<string, string>): Promise<void>;
  /** The newest version, or null before the first fit. */
  latest(): Promise<PatternModel | null>;
  /** The kind of each of these pattern ids that a stored version holds; an id no version holds is absent. */
  kindsOf(ids: readonly string[]): Promise<Map<string, PatternKind>>;
}
