import type { Clock } from '../ports';
import type { PrivacyLedger } from '../ports/privacy-ledger';
import { releaseGate } from '../domain/privacy/release-gate';
import type { PrivacyBudget } from '../domain/privacy/noise/privacy-budget';
import type { RandomBits } from '../domain/privacy/noise/random-bits';
import { RESEARCH_DATASET, releaseResearch, researchCost, withheldLine, type ResearchExportRequest, type ResearchRelease, type Suppression } from '../domain/privacy/research-release';

export interface ResearchValueReader {
  valuesOf(metric: string, from: Date, to: Date): Promise<{ subjectHash: bigint; value: number }[]>;
  /** Whether the research dataset holds any value at all, of any metric, at any time. */
  holdsAnyone(): Promise<boolean>;
}

export type ResearchExportResult =
  | { readonly status: 'released'; readonly release: ResearchRelease; readonly remaining: { epsilon: number; delta: number } }
  | { readonly status: 'suppressed'; readonly suppressed: Suppression }
  | { readonly status: 'refused'; readonly remaining: { epsilon: number; delta: number } };

export interface ResearchExportDeps {
  readonly values: ResearchValueReader;
  readonly ledger: PrivacyLedger;
  readonly budget: PrivacyBudget;
  readonly k: number;
  readonly random: RandomBits;
  readonly clock: Clock;
}

/**
 * Why a release over fewer than k users is withheld: k-anonymity, unless the research dataset
 * holds no one at all, when the reason is that nobody has given research consent. Whether the
 * range holds anyone is not asked: "none" against "a few" in a narrow window would tell whether
 * someone active in it consented to research, a fact about fewer than k people.
 */
export async function withheldFor(values: ResearchValueReader, k: number): Promise<Suppression> {
  return withheldLine((await values.holdsAnyone()) ? 'k_anonymity' : 'no_research_consent', k);
}

/**
 * A differentially private release from the research dataset (events of research-consented
 * users). Fewer than k users: suppressed (`withheldFor`), nothing spent. Otherwise the ledger spends first (a
 * release that would overspend is refused) and the noise is drawn after, so a crash between the
 * two can only waste budget, never release unaccounted.
 */
export function makeResearchExport(deps: ResearchExportDeps) {
  return async function researchExport(request: ResearchExportRequest, caller: { actor: string; role: string }): Promise<ResearchExportResult> {
    const rows = await deps.values.valuesOf(request.metric, new Date(request.from), new Date(request.to));
    const users = new Set(rows.map((row) => row.subjectHash)).size;
    if (!releaseGate(deps.k).settles(users)) return { status: 'suppressed', suppressed: await withheldFor(deps.values, deps.k) };
    const query = { metric: request.metric, epsilon: request.epsilon, mechanism: request.mechanism, delta: request.delta, maxContributionsPerUser: request.maxContributionsPerUser };
    const decision = await deps.ledger.spend(
      { dataset: RESEARCH_DATASET, at: deps.clock.now(), actor: caller.actor, role: caller.role, release: { ...request }, cost: researchCost(query) },
      deps.budget,
    );
    if (!decision.ok) {
      if (decision.reason === 'invalid_spend') throw new RangeError(decision.message);
      return { status: 'refused', remaining: decision.remaining };
    }
    return { status: 'released', release: releaseResearch(deps.random, rows, query), remaining: decision.remainingAfter };
  };
}

export type ResearchExport = ReturnType<typeof makeResearchExport>;
