import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { reportFailedAlert } from '../../domain/reports/owner-alert';
import type { OwnerAlerts, ReportMail, ReportMailer, ReportRun } from '../../ports/reports';

/*
 * The embedded mode's stand-ins for SES and the operations topic on the report path: each mail or
 * owners' alert is a JSON line of the outbox file the alerts use (`DATA_DIR/alerts/outbox.jsonl`),
 * as the AWS adapters would send it.
 */

async function appendLine(path: string, line: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify(line)}\n`, 'utf8');
}

export class OutboxReportMailer implements ReportMailer {
  constructor(private readonly path: string) {}

  async send(recipients: readonly string[], mail: ReportMail): Promise<void> {
    await appendLine(this.path, { channel: 'email', report: true, to: recipients, subject: mail.subject, text: mail.text });
  }
}

export class OutboxOwnerAlerts implements OwnerAlerts {
  constructor(private readonly path: string) {}

  async reportFailed(run: Pick<ReportRun, 'id' | 'kind' | 'period' | 'scheduleId'>, reason: string): Promise<void> {
    const { subject, text } = reportFailedAlert(run, reason);
    await appendLine(this.path, { channel: 'sns', severity: 'warning', subject, message: text });
  }
}
