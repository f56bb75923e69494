import type { Metrics } from '../ports';
import { REPORT_METRIC_NAMES } from '../ports/anomalies';
import { releaseGate } from '../domain/privacy/release-gate';
import { RESEARCH_DATASET, RESEARCH_METRIC_NAMES, releaseResearch, reportSuppressions, type ReportLine, type Suppression } from '../domain/privacy/research-release';
import type { ResearchReportRequest } from '../domain/reports/request';
import { withheldFor, type ResearchExportDeps } from './research-export';

export interface ResearchReleaseDeps extends ResearchExportDeps {
  /** Each release's outcome and duration (`REPORT_METRIC_NAMES`), for the operators' dashboard. */
  readonly metrics: Pick<Metrics, 'count' | 'observe'>;
}

export type ResearchReleaseResult =
  | { readonly status: 'released'; readonly lines: readonly ReportLine[]; readonly summary: { readonly released: readonly string[]; readonly suppressed: ReturnType<typeof reportSuppressions> } }
  | { readonly status: 'refused'; readonly remaining: { epsilon: number; delta: number } };

// Each metric's share is a hair under ε/n, so n shares never add up past the ε the ledger records.
const SHARE_MARGIN = 1 - 1e-12;

/**
 * The research report's release, drawn when the report is asked for: every research metric over
 * the range, each a differentially private release from the research dataset. Metrics with fewer
 * than k research-consented users are listed as suppressed (with the reason `withheldFor` gives)
 * and spend nothing; the others share the report's ε (and δ) evenly, spent from the ledger as one
 * release before any noise is drawn. The report function renders the lines later, in any format:
 * rendering spends nothing more.
 */
export function makeResearchRelease(deps: ResearchReleaseDeps) {
  const release = makeRelease(deps);
  return async function researchRelease(request: ResearchReportRequest, caller: { actor: string; role: string }, reportId: string): Promise<ResearchReleaseResult> {
    const started = deps.clock.now().getTime();
    // Stays `failed` when the release throws: a store out of reach.
    let outcome: ResearchReleaseResult['status'] | 'failed' = 'failed';
    try {
      const result = await release(request, caller, reportId);
      outcome = result.status;
      return result;
    } finally {
      deps.metrics.count(REPORT_METRIC_NAMES.runs, 1, { kind: 'research', outcome });
      deps.metrics.observe(REPORT_METRIC_NAMES.duration, deps.clock.now().getTime() - started, { kind: 'research' });
    }
  };
}

function makeRelease(deps: ResearchReleaseDeps) {
  return async function release(request: ResearchReportRequest, caller: { actor: string; role: string }, reportId: string): Promise<ResearchReleaseResult> {
    const from = new Date(request.from);
    const to = new Date(request.to);
    const gate = releaseGate(deps.k);
    const data = await Promise.all(RESEARCH_METRIC_NAMES.map(async (metric) => ({ metric, rows: await deps.values.valuesOf(metric, from, to) })));
    const admitted = data.filter(({ rows }) => gate.settles(new Set(rows.map((row) => row.subjectHash)).size));
    const { kind: _kind, format: _format, timeZone: _timeZone, ...parameters } = request;
    if (admitted.length > 0) {
      const decision = await deps.ledger.spend(
        {
          dataset: RESEARCH_DATASET,
          at: deps.clock.now(),
          actor: caller.actor,
          role: caller.role,
          release: { report: reportId, kind: 'research', ...parameters, metrics: admitted.map(({ metric }) => metric) },
          cost: { epsilon: request.epsilon, delta: request.mechanism === 'gaussian' ? (request.delta ?? 0) : 0 },
        },
        deps.budget,
      );
      if (!decision.ok) {
        if (decision.reason === 'invalid_spend') throw new RangeError(decision.message);
        return { status: 'refused', remaining: decision.remaining };
      }
    }
    const share = (value: number) => (value / admitted.length) * SHARE_MARGIN;
    // Asked once, and only when a line is withheld.
    let withheld: Promise<Suppression> | undefined;
    const lines: ReportLine[] = await Promise.all(
      data.map(async ({ metric, rows }) =>
        admitted.some((each) => each.metric === metric)
          ? {
              metric,
              release: releaseResearch(deps.random, rows, {
                metric,
                epsilon: share(request.epsilon),
                mechanism: request.mechanism,
                delta: request.delta === undefined ? undefined : share(request.delta),
                maxContributionsPerUser: request.maxContributionsPerUser,
              }),
            }
          : { metric, suppressed: await (withheld ??= withheldFor(deps.values, deps.k)) },
      ),
    );
    return { status: 'released', lines, summary: { released: admitted.map(({ metric }) => metric), suppressed: reportSuppressions(lines) } };
  };
}

export type ResearchRelease = ReturnType<typeof makeResearchRelease>;
