import type { FeatureState } from '../domain/behaviour/features';
import { FIRST_WEEKS_DAYS, OUTCOME_DAYS, firstWeeksFeatures } from '../domain/behaviour/outcome-features';
import { outcomeStatus, type OutcomeName } from '../domain/behaviour/outcome-labels';
import { NotEnoughOutcomes, predictOutcome, trainOutcome, type ModelQuality, type OutcomeExample } from '../domain/behaviour/outcome-model';
import { ALL_USERS_COHORT, cohortPrediction } from '../domain/behaviour/outcome-predictions';
import type { Clock } from '../ports';
import type { FeatureRows } from '../ports/features';
import type { CohortMemberships, OutcomePredictionStore } from '../ports/outcomes';

const DAY_MS = 86_400_000;

/** Rows a page of user features holds: a page of states is a few MB at most. */
const FEATURE_PAGE = 2_000;

export interface TrainOutcomeModelDeps {
  readonly features: FeatureRows;
  readonly cohorts: CohortMemberships;
  readonly store: OutcomePredictionStore;
  readonly clock: Clock;
  readonly newId: () => string;
}

/** Every user in one cohort, "all": the memberships until stored cohort definitions exist. */
export const wholePopulation: CohortMemberships = {
  cohortsOf: async (users) => new Map([[ALL_USERS_COHORT, users.map(([key]) => key)]]),
};

export type TrainOutcomeResult =
  | { readonly status: 'trained'; readonly version: string; readonly quality: ModelQuality; readonly predicted: number; readonly cohorts: number; readonly live: { readonly version: string; readonly accuracy: number; readonly n: number } | null }
  | { readonly status: 'not_enough_outcomes'; readonly reason: string };

/** A user the model can speak of: their first two weeks are over and they have a baseline. */
interface Assessable {
  readonly key: string;
  readonly state: FeatureState;
  readonly baselineAt: number;
  /** Null while the eight weeks after the baseline run. */
  readonly improved: boolean | null;
}

function assessable(users: readonly (readonly [string, FeatureState])[], outcome: OutcomeName, now: number): Assessable[] {
  return users.flatMap(([key, state]) => {
    const firstDay = state.outcome?.firstDays[0]?.day;
    if (firstDay === undefined || now < (firstDay + FIRST_WEEKS_DAYS) * DAY_MS) return [];
    const status = outcomeStatus(state.outcome, outcome, now);
    if (status.status === 'no_baseline') return [];
    return [{ key, state, baselineAt: status.baselineAt, improved: status.status === 'known' ? status.improved : null }];
  });
}

/**
 * The nightly outcome model (issue 16): measures the newest model's live accuracy on the outcomes
 * that became known since it was trained, trains a new version on every known outcome (earlier
 * starters train, later ones test), and stores it with each cohort's predicted and actual rates.
 * Users' probabilities live only in this run's memory: what is stored are cohorts' aggregates.
 */
export function makeTrainOutcomeModel(deps: TrainOutcomeModelDeps) {
  return async function trainOutcomeModel(outcome: OutcomeName = 'phq9_reliable_improvement'): Promise<TrainOutcomeResult> {
    const now = deps.clock.now();
    const all: (readonly [string, FeatureState])[] = [];
    for await (const page of deps.features.pages(FEATURE_PAGE)) all.push(...page);
    const users = assessable(all, outcome, now.getTime());
    const examples: OutcomeExample[] = users.flatMap((user) => (user.improved === null ? [] : [{ firstAt: user.state.firstAt, features: firstWeeksFeatures(user.state.outcome), improved: user.improved }]));

    const previous = await deps.store.latest(outcome);
    let live: { version: string; accuracy: number; n: number } | null = null;
    if (previous) {
      const trainedAt = Date.parse(previous.trainedAt);
      const since = users.filter((user) => user.improved !== null && user.baselineAt + OUTCOME_DAYS * DAY_MS > trainedAt);
      if (since.length > 0) {
        const probabilities = predictOutcome(previous.model, since.map((user) => firstWeeksFeatures(user.state.outcome)));
        const accuracy = probabilities.filter((p, i) => p >= 0.5 === since[i]!.improved).length / since.length;
        live = { version: previous.version, accuracy, n: since.length };
        await deps.store.recordLive(previous.version, { accuracy, n: since.length, measuredAt: now.toISOString() });
      }
    }

    let model;
    try {
      model = trainOutcome(outcome, examples);
    } catch (error) {
      if (error instanceof NotEnoughOutcomes) return { status: 'not_enough_outcomes', reason: error.message };
      throw error;
    }
    const probabilities = new Map(predictOutcome(model, users.map((user) => firstWeeksFeatures(user.state.outcome))).map((p, i) => [users[i]!.key, p]));
    const outcomes = new Map(users.map((user) => [user.key, user.improved]));
    const memberships = await deps.cohorts.cohortsOf(users.map((user) => [user.key, user.state] as const));
    const predictions = [...memberships].flatMap(([cohort, members]) => {
      const predicted = members.filter((key) => probabilities.has(key));
      return predicted.length === 0 ? [] : [cohortPrediction(cohort, predicted.map((key) => probabilities.get(key)!), predicted.map((key) => outcomes.get(key)!))];
    });
    const version = deps.newId();
    await deps.store.saveVersion({ version, trainedAt: now, model }, predictions);
    return { status: 'trained', version, quality: model.quality, predicted: users.length, cohorts: predictions.length, live };
  };
}

export type TrainOutcomeModel = ReturnType<typeof makeTrainOutcomeModel>;
