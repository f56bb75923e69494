import type { ReportDocument } from '../../domain/reports/document';
import { researchParametersSchema, researchReleaseSchema, researchSections } from '../../domain/reports/research-sections';
import type { Clock } from '../../ports';
import type { ReportRun, ReportSource } from '../../ports/reports';
import { readRun } from './run-fields';

export type ResearchRun = Pick<ReportRun, 'period' | 'parameters' | 'release'>;

/**
 * The research report of a run as a document: its release, drawn (and paid for from the ledger)
 * when it was asked for, laid out with each figure's noise and interval. `dataThrough` is the end
 * of the period, or the time the report is made if that is earlier: the release holds the values
 * received by the time it was drawn, which the run does not record.
 */
export function researchDocument(run: ResearchRun, options: { readonly k: number; readonly generatedAt: Date }): ReportDocument {
  const lines = readRun('research', researchReleaseSchema, run.release, 'release');
  const parameters = readRun('research', researchParametersSchema, run.parameters, 'parameters');
  const through = Math.min(Date.parse(run.period.to), options.generatedAt.getTime());
  return {
    kind: 'research',
    title: `Research release, ${run.period.label}`,
    period: run.period,
    generatedAt: options.generatedAt.toISOString(),
    dataThrough: new Date(through).toISOString(),
    k: options.k,
    sections: researchSections(lines, parameters),
  };
}

/** The research report source: no store to read, as the release travels with the run. */
export function makeResearchReportSource(deps: { readonly clock: Clock; readonly k: number }): ReportSource {
  return async function researchReport(run, onProgress) {
    const document = researchDocument(run, { k: deps.k, generatedAt: deps.clock.now() });
    onProgress({ stage: 'release', done: 1, total: 1 });
    return document;
  };
}
