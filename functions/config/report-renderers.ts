import { csvRenderer } from '../adapters/report-formats/csv';
import { htmlRenderer } from '../adapters/report-formats/html';
import { pdfRenderer } from '../adapters/report-formats/pdf';
import { xlsxReportRenderer } from '../adapters/report-formats/xlsx';
import type { ReportFormat } from '../domain/reports/document';
import { researchReportCsv, type ReportLine } from '../domain/privacy/research-release';
import type { ReportRenderer, ReportRun } from '../ports/reports';

const RENDERERS: Readonly<Record<ReportFormat, ReportRenderer>> = { pdf: pdfRenderer, xlsx: xlsxReportRenderer, csv: csvRenderer, html: htmlRenderer };

/**
 * The renderers of a run. A research report's CSV keeps the layout research scripts read (a line
 * per metric, each figure with its noise and interval), drawn from the run's release; its other
 * formats render the document like any report.
 */
export function reportRenderersOf(run: Pick<ReportRun, 'kind' | 'release'>): Readonly<Record<ReportFormat, ReportRenderer>> {
  if (run.kind !== 'research') return RENDERERS;
  const lines = run.release as readonly ReportLine[];
  return { ...RENDERERS, csv: { ...csvRenderer, render: async () => Buffer.from(researchReportCsv(lines), 'utf8') } };
}
