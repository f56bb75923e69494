import type { Clock } from '../ports';
import type { PrivacyLedger } from '../ports/privacy-ledger';
import { releaseGate } from '../domain/privacy/release-gate';
import type { PrivacyBudget } from '../domain/privacy/noise/privacy-budget';
import type { RandomBits } from '../domain/privacy/noise/random-bits';
import { RESEARCH_DATASET, releaseResearch, researchCost, type ResearchExportRequest, type ResearchRelease } from '../domain/privacy/research-release';

export interface ResearchValueReader {
  valuesOf(metric: string, from: Date, to: Date): Promise<{ subjectHash: bigint; value: number }[]>;
}


export type ResearchExportResult =
  | { readonly status: 'released'; readonly release: ResearchRelease; readonly remaining: { epsilon: number; delta: number } }
  | { readonly status: 'suppressed'; readonly reason: 'k_anonymity' }
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
 * A differentially private release from the research dataset (events of research-consented
 * users). Fewer than k users: suppressed, nothing spent. Otherwise the ledger spends first (a
 * release that would overspend is refused) and the noise is drawn after, so a crash between the
 * two can only waste budget, never release unaccounted.
 */
export function makeResearchExport(deps: ResearchExportDeps) {
  return async function researchExport(request: ResearchExportRequest, caller: { actor: string; role: string }): Promise<ResearchExportResult> {
    const rows = await deps.values.valuesOf(request.metric, new Date(request.from), new Date(request.to));
    const users = new Set(rows.map((row) => row.subjectHash)).size;
    if (!releaseGate(deps.k).settles(users)) return { status: 'suppressed', reason: 'k_anonymity' };
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
