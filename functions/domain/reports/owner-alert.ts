import type { ReportRun } from '../../ports/reports';

/** SNS takes a subject of fewer than 100 characters. */
const MAX_SUBJECT = 99;

/**
 * What the product's owners are told when a report failed: which run, of what, for which period,
 * and why; never its recipients or its figures. One text for every channel (SNS e-mail in AWS, the
 * outbox locally).
 */
export function reportFailedAlert(run: Pick<ReportRun, 'id' | 'kind' | 'period' | 'scheduleId'>, reason: string): { readonly subject: string; readonly text: string } {
  const subject = `Report failed: ${run.kind} ${run.period.label}${run.scheduleId === null ? '' : ` (schedule ${run.scheduleId})`}`;
  const text = [
    `The ${run.kind} report for ${run.period.label} could not be made, so it was not sent; its recipients were told it is late.`,
    '',
    `Report: ${run.id}`,
    `Period: ${run.period.from} to ${run.period.to} (${run.period.timeZone})`,
    `Asked for by: ${run.scheduleId === null ? 'the API' : `schedule ${run.scheduleId}`}`,
    `Why: ${reason}`,
    '',
    'GET /v1/reports/{id} shows the run; README "Runbook" says what to do.',
  ].join('\n');
  return { subject: subject.length > MAX_SUBJECT ? `${subject.slice(0, MAX_SUBJECT - 1)}…` : subject, text };
}
