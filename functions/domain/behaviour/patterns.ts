import { releaseGate } from '../privacy/release-gate';
import { releasePolicy } from '../privacy/release-policy';
import type { Archetype } from './archetypes';
import type { SequenceRule } from './sequences';

/** What GET /v1/patterns answers and user_behavior_patterns keeps (DESIGN.md "Behaviour analysis"). */

export const PATTERN_KINDS = ['archetype', 'sequence'] as const;
export type PatternKind = (typeof PATTERN_KINDS)[number];

export interface PatternModelInfo {
  readonly version: string;
  readonly trainedAt: string;
  /** Users the archetypes were fitted on (those with two whole weeks). */
  readonly users: number;
  readonly k: number;
  /** Mean silhouette at the chosen k; null when there were too few users to fit. */
  readonly silhouette: number | null;
}

export interface ArchetypePattern extends Archetype {
  readonly id: string;
  readonly kind: 'archetype';
}

export interface SequencePattern extends SequenceRule {
  readonly id: string;
  readonly kind: 'sequence';
  readonly precedes: 'dropout';
}

export type BehaviourPattern = ArchetypePattern | SequencePattern;

export interface PatternModel {
  readonly model: PatternModelInfo;
  readonly patterns: readonly BehaviourPattern[];
}

export interface Suppressed {
  readonly group: { readonly pattern: string };
  readonly reason: 'k_anonymity';
}

/**
 * The patterns of a model that may be shown to people allowed k-anonymous aggregates. Archetypes
 * partition the model's users, so the release policy's complementary suppression applies (the
 * total minus the shown archetypes must not single one out); a sequence shows how many of its
 * users dropped out, so both counts must reach k.
 */
export function releasePatterns(stored: PatternModel, k: number, kind?: PatternKind): PatternModel & { readonly suppressed: readonly Suppressed[] } {
  const archetypes = stored.patterns.filter((pattern): pattern is ArchetypePattern => pattern.kind === 'archetype');
  const cells = [stored.model.users, ...archetypes.map((pattern) => pattern.users)];
  const releasable = releasePolicy({ k, approximateMargin: 0 }).releasable(
    { users: cells, usersApprox: cells.map(() => 0) },
    { parents: [0], starts: [0, archetypes.length], children: archetypes.map((_, i) => i + 1) },
  );
  const shownArchetypes = new Set(archetypes.filter((_, i) => releasable[i + 1] === 1));
  const gate = releaseGate(k);
  const shown = (pattern: BehaviourPattern) => (pattern.kind === 'archetype' ? shownArchetypes.has(pattern) : gate.settles(pattern.users) && gate.settles(pattern.droppedOut));
  const asked = stored.patterns.filter((pattern) => kind === undefined || pattern.kind === kind);
  return {
    model: stored.model,
    patterns: asked.filter(shown),
    suppressed: asked.filter((pattern) => !shown(pattern)).map((pattern) => ({ group: { pattern: pattern.id }, reason: 'k_anonymity' as const })),
  };
}
