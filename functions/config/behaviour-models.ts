import type { SqlDatabase } from '../adapters/pg/database';
import type { Clock } from '../ports';
import type { ModelStep } from '../use-cases/run-models';

export interface BehaviourModelDeps {
  readonly db: SqlDatabase;
  readonly clock: Clock;
  readonly k: number;
}

/** The models the nightly run fits, in order, over the database's feature rows: the same in the stack and in the local runtime. */
export function behaviourModelSteps(_deps: BehaviourModelDeps): ModelStep[] {
  return [];
}
