import { ARCHETYPE_DEFAULTS, fitArchetypes, type ArchetypeOptions } from '../domain/behaviour/archetypes';
import { activityProfile, type ActivityProfile } from '../domain/behaviour/pattern-features';
import type { BehaviourPattern, PatternModel } from '../domain/behaviour/patterns';
import { DROPOUT_DAYS, SEQUENCE_DEFAULTS, mineSequences, type SequenceOptions, type SequenceUser } from '../domain/behaviour/sequences';
import type { Clock } from '../ports';
import type { FeatureRows } from '../ports/features';
import type { PatternStore } from '../ports/patterns';

const DAY_MS = 86_400_000;
const PAGE_SIZE = 5_000;

export interface FitPatternsDeps {
  readonly features: FeatureRows;
  readonly patterns: Pick<PatternStore, 'save'>;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly archetypes?: ArchetypeOptions;
  readonly sequences?: SequenceOptions;
}

/**
 * Fits the pattern models on every user's features and stores them as a new version (the
 * nightly model function calls it): archetypes of the users with two whole weeks, sequences of
 * the users with a session. Each page of rows is reduced to what the models read as it comes.
 */
export function makeFitPatterns(deps: FitPatternsDeps): () => Promise<PatternModel> {
  const archetypeOptions = deps.archetypes ?? ARCHETYPE_DEFAULTS;
  const sequenceOptions = deps.sequences ?? SEQUENCE_DEFAULTS;
  return async () => {
    const trainedAt = deps.clock.now();
    const now = trainedAt.getTime();
    const profiles: ActivityProfile[] = [];
    const profiled: string[] = [];
    const sequenceUsers: SequenceUser[] = [];
    for await (const page of deps.features.pages(PAGE_SIZE)) {
      for (const [key, state] of page) {
        const profile = activityProfile(state, now);
        if (profile) {
          profiles.push(profile);
          profiled.push(key);
        }
        if (state.lastSessionAt !== null) sequenceUsers.push({ steps: (state.steps ?? []).slice(-sequenceOptions.window), droppedOut: now - state.lastSessionAt >= DROPOUT_DAYS * DAY_MS });
      }
    }
    const fit = fitArchetypes(profiles, archetypeOptions);
    const patterns: BehaviourPattern[] = [
      ...(fit?.archetypes ?? []).map((archetype) => ({ id: deps.newId(), kind: 'archetype' as const, ...archetype })),
      ...mineSequences(sequenceUsers, sequenceOptions).map((rule) => ({ id: deps.newId(), kind: 'sequence' as const, ...rule, precedes: 'dropout' as const })),
    ];
    const model: PatternModel = {
      model: { version: deps.newId(), trainedAt: trainedAt.toISOString(), users: profiles.length, k: fit?.k ?? 0, silhouette: fit?.silhouette ?? null },
      patterns,
    };
    // Archetypes come first among the patterns, in the order of the fit's indices.
    const assignments = new Map(fit ? profiled.map((key, i) => [key, patterns[fit.assignments[i]!]!.id]) : []);
    await deps.patterns.save(model, assignments);
    return model;
  };
}
