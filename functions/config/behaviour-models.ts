import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '../adapters/pg/database';
import { SqlPatternStore } from '../adapters/pg/sql-behavior-patterns';
import { SqlFeatureRows } from '../adapters/pg/sql-user-features';
import { SqlCohortPopulation, SqlCohortStore } from '../adapters/pg/sql-cohorts';
import { SqlOutcomePredictionStore } from '../adapters/pg/sql-outcome-predictions';
import type { Clock } from '../ports';
import { storedCohortMemberships } from '../use-cases/cohorts';
import { makeFitPatterns } from '../use-cases/fit-patterns';
import type { ModelStep } from '../use-cases/run-models';
import { makeTrainOutcomeModel } from '../use-cases/train-outcome-model';

export interface BehaviourModelDeps {
  readonly db: SqlDatabase;
  readonly clock: Clock;
  readonly k: number;
}

/**
 * The models the nightly run fits, in order, over the database's feature rows: the same in the
 * stack's model function and in the local runtime. Each fit takes its pass over the rows as one
 * unit of progress: the work is the clustering and the regression, not the read.
 */
export function behaviourModelSteps({ db, clock, k }: BehaviourModelDeps): ModelStep[] {
  // One reader of the feature rows for both models.
  const features = new SqlFeatureRows(db);
  const fitPatterns = makeFitPatterns({ features, patterns: new SqlPatternStore(db), clock, newId: randomUUID });
  const predictions = new SqlOutcomePredictionStore(db);
  const trainOutcomeModel = makeTrainOutcomeModel({ features, cohorts: storedCohortMemberships(new SqlCohortStore(db), new SqlCohortPopulation(db), k), store: predictions, clock, newId: randomUUID });
  return [
    {
      name: 'patterns',
      async run(progress) {
        progress(0, 1);
        const fit = await fitPatterns();
        progress(1, 1);
        if (fit.model.k === 0) return undefined;
        const kinds = (kind: string) => fit.patterns.filter((pattern) => pattern.kind === kind).length;
        return {
          version: fit.model.version,
          trainedAt: fit.model.trainedAt,
          quality: { users: fit.model.users, k: fit.model.k, silhouette: fit.model.silhouette, archetypes: kinds('archetype'), sequences: kinds('sequence') },
          model: fit.patterns,
        };
      },
    },
    {
      name: 'outcomes',
      async run(progress) {
        progress(0, 1);
        const result = await trainOutcomeModel();
        progress(1, 1);
        if (result.status !== 'trained') return undefined;
        const stored = await predictions.latest('phq9_reliable_improvement');
        return {
          version: result.version,
          trainedAt: stored?.trainedAt ?? clock.now().toISOString(),
          quality: { ...result.quality, predicted: result.predicted, cohorts: result.cohorts, live: result.live },
          model: stored?.model,
        };
      },
    },
  ];
}
