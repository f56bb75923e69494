import { SendEmailCommand, type SESClient } from '@aws-sdk/client-ses';
import type { ReportMail, ReportMailer } from '../../ports/reports';

/**
 * Report mail through SES (v1 SendEmail, which the emulator we test against implements). The
 * recipients are blind copies: a schedule's readers do not learn each other's addresses. One
 * call for all of them (a schedule has at most 50, SES's limit per message), so SES accepts the
 * mail for all or for none.
 */
export class SesReportMailer implements ReportMailer {
  constructor(
    private readonly client: SESClient,
    /** A verified SES identity. */
    private readonly from: string,
  ) {}

  async send(recipients: readonly string[], mail: ReportMail): Promise<void> {
    if (recipients.length === 0) return;
    await this.client.send(
      new SendEmailCommand({
        Source: this.from,
        Destination: { BccAddresses: [...recipients] },
        Message: {
          Subject: { Data: mail.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: mail.text, Charset: 'UTF-8' }, Html: { Data: mail.html, Charset: 'UTF-8' } },
        },
      }),
    );
  }
}
