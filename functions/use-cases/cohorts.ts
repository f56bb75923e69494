import { compareCohorts, type ComparableMetric, type Comparison } from '../domain/behaviour/cohort-comparison';
import { isMember, patternReferences, releasableCohorts, retentionMatrix, type CohortSubject, type NewCohort, type Retention } from '../domain/behaviour/cohorts';
import { userFeatures } from '../domain/behaviour/features';
import type { Clock } from '../ports';
import type { CohortPopulation, CohortStore, StoredCohort } from '../ports/cohorts';
import type { CohortMemberships } from '../ports/outcomes';
import type { PatternStore } from '../ports/patterns';
import { ALL_USERS_COHORT } from '../domain/behaviour/outcome-predictions';

/** Every read evaluates every cohort over every user (the release rule compares them): a bound keeps that bounded. */
export const MAX_COHORTS = 200;

export interface CohortsDeps {
  readonly store: CohortStore;
  readonly population: CohortPopulation;
  /** Where a definition's patterns are looked up when it is stored. */
  readonly patterns: Pick<PatternStore, 'kindsOf'>;
  readonly clock: Clock;
  readonly k: number;
  readonly newId: () => string;
}

export interface CohortSummary {
  readonly id: string;
  readonly name: string;
  readonly definition: StoredCohort['definition'];
  readonly createdAt: string;
  /** Null where the cohort is withheld (PRIVACY.md "Cohorts"). */
  readonly users: number | null;
}

const WITHHELD = { reason: 'k_anonymity' } as const;
type Suppressed = readonly (typeof WITHHELD)[];

export type CohortRead<T> = { readonly status: 'not_found' } | { readonly status: 'withheld' } | ({ readonly status: 'released' } & T);

/** Each cohort with its members among `subjects` (keys ascending) and whether it may be released, in the order given. */
function membersOf(cohorts: readonly StoredCohort[], subjects: readonly CohortSubject[], k: number) {
  // The release rule walks members in one order; the database's collation may sort keys another way.
  const sorted = [...subjects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const members = cohorts.map((cohort) => sorted.filter((subject) => isMember(cohort.definition, subject)));
  const released = releasableCohorts(
    members.map((list) => list.map((subject) => subject.key)),
    sorted.length,
    k,
  );
  return cohorts.map((cohort, i) => ({ cohort, members: members[i]!, released: released[i]! }));
}

/** The subjects with the archetype patterns the cohorts refer to that each was put in. */
async function withPatterns<S extends CohortSubject>(subjects: readonly S[], cohorts: readonly StoredCohort[], population: Pick<CohortPopulation, 'patternMembers'>): Promise<S[]> {
  const ids = [...new Set(cohorts.flatMap((cohort) => patternReferences(cohort.definition).map((reference) => reference.id)))];
  if (ids.length === 0) return [...subjects];
  const patternsOf = new Map<string, Set<string>>();
  for (const [pattern, members] of await population.patternMembers(ids)) {
    for (const key of members) {
      const patterns = patternsOf.get(key);
      if (patterns) patterns.add(pattern);
      else patternsOf.set(key, new Set([pattern]));
    }
  }
  return subjects.map((subject) => (patternsOf.has(subject.key) ? { ...subject, patterns: patternsOf.get(subject.key)! } : subject));
}

async function evaluate(deps: CohortsDeps) {
  const [cohorts, subjects] = await Promise.all([deps.store.list(), deps.population.subjects()]);
  return membersOf(cohorts, await withPatterns(subjects, cohorts, deps.population), deps.k);
}

/**
 * The cohorts the outcome model predicts for: everyone ("all") and each stored cohort that may be
 * released (PRIVACY.md "Cohorts"). A withheld cohort gets no prediction: set beside a cohort of
 * one more person, two mean probabilities would give that person's own.
 */
export function storedCohortMemberships(store: CohortStore, population: Pick<CohortPopulation, 'patternMembers'>, k: number): CohortMemberships {
  return {
    async cohortsOf(users) {
      const cohorts = await store.list();
      const subjects = users.map(([key, state]) => ({ key, firstAt: state.firstAt, platform: state.platform?.value ?? null, activeDays: state.days }));
      const released = membersOf(cohorts, await withPatterns(subjects, cohorts, population), k).filter((entry) => entry.released);
      return new Map([[ALL_USERS_COHORT, users.map(([key]) => key)], ...released.map((entry) => [entry.cohort.id, entry.members.map((member) => member.key)] as const)]);
    },
  };
}

export function makeCohorts(deps: CohortsDeps) {
  async function released(id: string): Promise<CohortRead<{ cohort: StoredCohort; members: CohortSubject[] }>> {
    const found = (await evaluate(deps)).find((entry) => entry.cohort.id === id);
    if (!found) return { status: 'not_found' };
    return found.released ? { status: 'released', cohort: found.cohort, members: found.members } : { status: 'withheld' };
  }

  return {
    /** Stores a definition; `limit_reached` at MAX_COHORTS, `unknown_pattern` (with the field) for a pattern no stored fit holds as an archetype. */
    async create(
      cohort: NewCohort,
      createdBy: string,
    ): Promise<{ status: 'created'; cohort: StoredCohort } | { status: 'limit_reached' } | { status: 'unknown_pattern'; field: string; message: string }> {
      const references = patternReferences(cohort.definition);
      if (references.length > 0) {
        const kinds = await deps.patterns.kindsOf(references.map((reference) => reference.id));
        const wrong = references.find((reference) => kinds.get(reference.id) !== 'archetype');
        if (wrong) {
          const kind = kinds.get(wrong.id);
          return { status: 'unknown_pattern', field: wrong.path, message: kind ? `pattern ${wrong.id} is a ${kind} pattern; a cohort selects the members of an archetype` : `no stored fit holds a pattern ${wrong.id}` };
        }
      }
      if ((await deps.store.count()) >= MAX_COHORTS) return { status: 'limit_reached' };
      const stored: StoredCohort = { id: deps.newId(), name: cohort.name, definition: cohort.definition, createdAt: deps.clock.now().toISOString(), createdBy };
      await deps.store.add(stored);
      return { status: 'created', cohort: stored };
    },

    async list(): Promise<{ cohorts: CohortSummary[]; suppressed: Suppressed }> {
      const entries = await evaluate(deps);
      const cohorts = entries.map(({ cohort, members, released: shown }) => ({
        id: cohort.id,
        name: cohort.name,
        definition: cohort.definition,
        createdAt: cohort.createdAt,
        users: shown ? members.length : null,
      }));
      return { cohorts, suppressed: entries.every((entry) => entry.released) ? [] : [WITHHELD] };
    },

    async retention(id: string, periods: number): Promise<CohortRead<{ cohort: StoredCohort; retention: Retention }>> {
      const read = await released(id);
      if (read.status !== 'released') return read;
      return { status: 'released', cohort: read.cohort, retention: retentionMatrix(read.members, { now: deps.clock.now(), periods, k: deps.k }) };
    },

    /** Compares two released cohorts; `withheld` if either is not. */
    async compare(a: string, b: string, metrics: readonly ComparableMetric[]): Promise<CohortRead<{ cohorts: readonly [StoredCohort, StoredCohort]; comparison: Comparison }>> {
      const entries = await evaluate(deps);
      const [left, right] = [a, b].map((id) => entries.find((entry) => entry.cohort.id === id));
      if (!left || !right) return { status: 'not_found' };
      if (!left.released || !right.released) return { status: 'withheld' };
      const states = await deps.population.states([...new Set([...left.members, ...right.members].map((member) => member.key))]);
      const now = deps.clock.now().getTime();
      const featuresOf = (members: readonly CohortSubject[]) => members.flatMap((member) => (states.has(member.key) ? [userFeatures(states.get(member.key)!, now)] : []));
      return { status: 'released', cohorts: [left.cohort, right.cohort], comparison: compareCohorts(featuresOf(left.members), featuresOf(right.members), metrics, deps.k) };
    },
  };
}

export type Cohorts = ReturnType<typeof makeCohorts>;
