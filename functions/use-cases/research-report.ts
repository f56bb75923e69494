import type { Metrics, ObjectStore } from '../ports';
import { REPORT_METRIC_NAMES } from '../ports/anomalies';
import type { ReportEntry, ReportIndex } from '../ports/reports';
import { releaseGate } from '../domain/privacy/release-gate';
import { RESEARCH_DATASET, RESEARCH_METRIC_NAMES, releaseResearch, reportSuppressions, researchReportCsv, type ReportLine, type ResearchReportRequest, type Suppression } from '../domain/privacy/research-release';
import { withheldFor, type ResearchExportDeps } from './research-export';

export interface ResearchReportDeps extends ResearchExportDeps {
  readonly objects: ObjectStore;
  readonly index: ReportIndex;
  readonly newId: () => string;
  /** Each run's outcome and duration (`REPORT_METRIC_NAMES`), for the operators' dashboard. */
  readonly metrics: Pick<Metrics, 'count' | 'observe'>;
}

export type ResearchReportResult = { readonly status: 'ready'; readonly report: ReportEntry } | { readonly status: 'refused'; readonly remaining: { epsilon: number; delta: number } };

// Each metric's share is a hair under ε/n, so n shares never add up past the ε the ledger records.
const SHARE_MARGIN = 1 - 1e-12;

/**
 * The research report: every research metric over the range, each a differentially private
 * release from the research dataset. Metrics with fewer than k research-consented users are listed
 * as suppressed (with the reason `withheldFor` gives) and spend nothing; the others share the report's ε (and δ) evenly, spent from the
 * ledger as one release before any noise is drawn. The CSV goes to the object store, the entry
 * to the report index.
 */
export function makeResearchReport(deps: ResearchReportDeps) {
  const run = makeRun(deps);
  return async function researchReport(request: ResearchReportRequest, caller: { actor: string; role: string }): Promise<ResearchReportResult> {
    const started = deps.clock.now().getTime();
    // Stays `failed` when the run throws: a store out of reach, a file not written.
    let outcome: ResearchReportResult['status'] | 'failed' = 'failed';
    try {
      const result = await run(request, caller);
      outcome = result.status;
      return result;
    } finally {
      deps.metrics.count(REPORT_METRIC_NAMES.runs, 1, { kind: 'research', outcome });
      deps.metrics.observe(REPORT_METRIC_NAMES.duration, deps.clock.now().getTime() - started, { kind: 'research' });
    }
  };
}

function makeRun(deps: ResearchReportDeps) {
  return async function run(request: ResearchReportRequest, caller: { actor: string; role: string }): Promise<ResearchReportResult> {
    const id = deps.newId();
    const from = new Date(request.from);
    const to = new Date(request.to);
    const gate = releaseGate(deps.k);
    const data = await Promise.all(RESEARCH_METRIC_NAMES.map(async (metric) => ({ metric, rows: await deps.values.valuesOf(metric, from, to) })));
    const admitted = data.filter(({ rows }) => gate.settles(new Set(rows.map((row) => row.subjectHash)).size));
    const { kind: _kind, ...parameters } = request;
    if (admitted.length > 0) {
      const decision = await deps.ledger.spend(
        {
          dataset: RESEARCH_DATASET,
          at: deps.clock.now(),
          actor: caller.actor,
          role: caller.role,
          release: { report: id, kind: 'research', ...parameters, metrics: admitted.map(({ metric }) => metric) },
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
    const objectKey = `reports/research/${id}.csv`;
    await deps.objects.put(objectKey, researchReportCsv(lines), 'text/csv');
    const report: ReportEntry = {
      id,
      kind: 'research',
      createdAt: deps.clock.now().toISOString(),
      createdBy: caller.actor,
      role: caller.role,
      parameters,
      summary: { released: admitted.map(({ metric }) => metric), suppressed: reportSuppressions(lines) },
      objectKey,
      contentType: 'text/csv',
    };
    await deps.index.add(report);
    return { status: 'ready', report };
  };
}

export type ResearchReport = ReturnType<typeof makeResearchReport>;
