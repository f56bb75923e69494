import { featureDeltas, mergeFeatureState, type FeatureState } from '../behaviour/features';
import { activityProfile } from '../behaviour/pattern-features';
import { fitArchetypes, type ArchetypeFit, type ArchetypeOptions } from '../behaviour/archetypes';
import { adjustedRandIndex } from '../behaviour/adjusted-rand';
import type { IncomingEvent, StoredEvent } from '../events/schema';
import { ARCHETYPE_NAMES, plantedPopulation, type Archetype, type PlantedPopulationOptions } from './planted-population';

/*
 * How well the archetypes are recovered from a planted population: its events go through the
 * feature state as the aggregate keeps it (featureDeltas, merged batch by batch), the archetypes
 * are fitted on the users' profiles at the history's end, and the fit is scored against the
 * truth (README "Behaviour analysis" gives the figures).
 */

const BATCH = 20_000;

/**
 * Each planted user's feature state, keyed by user id. The events skip pseudonymisation (the user
 * id stands for the pseudonym): what is scored is the features and the clustering.
 */
export function plantedStates(events: Iterable<IncomingEvent>): Map<string, FeatureState> {
  const states = new Map<string, FeatureState>();
  let batch: StoredEvent[] = [];
  const flush = () => {
    for (const [subject, delta] of featureDeltas(batch)) {
      const before = states.get(subject);
      states.set(subject, before ? mergeFeatureState(before, delta) : delta);
    }
    batch = [];
  };
  for (const event of events) {
    batch.push({ ...event, v: 1, subject: event.userId, session: event.sessionId ?? '', receivedAt: event.occurredAt, context: event.context ?? {} } as unknown as StoredEvent);
    if (batch.length >= BATCH) flush();
  }
  flush();
  return states;
}

/** Label pairs (planted, recovered) -> the one-to-one matching with the most users in common, by trying every matching. */
function bestMatching(counts: number[][]): number[] {
  const [rows, columns] = [counts.length, counts[0]?.length ?? 0];
  let best = { total: -1, match: [] as number[] };
  const visit = (row: number, used: Set<number>, match: number[], total: number) => {
    if (row === rows) {
      if (total > best.total) best = { total, match: [...match] };
      return;
    }
    for (let column = -1; column < columns; column += 1) {
      if (column >= 0 && used.has(column)) continue;
      // -1: the planted archetype is matched to no recovered one (fewer were recovered).
      if (column >= 0) used.add(column);
      visit(row + 1, used, [...match, column], total + (column >= 0 ? counts[row]![column]! : 0));
      used.delete(column);
    }
  };
  visit(0, new Set(), [], 0);
  return best.match;
}

export interface ArchetypeRecovery {
  readonly users: number;
  readonly fit: ArchetypeFit;
  readonly adjustedRandIndex: number;
  /** Per planted archetype: its share, and the recovered archetype matched to it (null if none) with its share. */
  readonly shares: Readonly<Record<Archetype, { readonly planted: number; readonly recovered: number; readonly name: string | null }>>;
}

export function archetypeRecovery(population: PlantedPopulationOptions, options?: ArchetypeOptions): ArchetypeRecovery {
  const { truth, events } = plantedPopulation(population);
  const states = plantedStates(events());
  const end = Date.parse(truth.to);
  const profiled = truth.users.flatMap((user) => {
    const state = states.get(user.userId);
    const profile = state && activityProfile(state, end);
    return profile ? [{ planted: user.archetype, profile }] : [];
  });
  const fit = fitArchetypes(profiled.map((user) => user.profile), options);
  if (!fit) throw new Error(`too few users with two whole weeks to fit archetypes: ${profiled.length}`);
  const counts = ARCHETYPE_NAMES.map(() => fit.archetypes.map(() => 0));
  profiled.forEach((user, i) => (counts[ARCHETYPE_NAMES.indexOf(user.planted)]![fit.assignments[i]!]! += 1));
  const match = bestMatching(counts);
  const shares = Object.fromEntries(
    ARCHETYPE_NAMES.map((name, row) => {
      const recovered = fit.archetypes[match[row]!];
      return [name, { planted: truth.archetypes[name].plantedShare, recovered: recovered?.share ?? 0, name: recovered?.name ?? null }];
    }),
  ) as ArchetypeRecovery['shares'];
  return { users: profiled.length, fit, adjustedRandIndex: adjustedRandIndex(profiled.map((user) => user.planted), fit.assignments), shares };
}
