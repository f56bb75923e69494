import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { reportFailedAlert } from '../../domain/reports/owner-alert';
import type { OwnerAlerts, ReportRun } from '../../ports/reports';

/** Owners' alerts on the operations (warning) topic, whose e-mail subscription reaches them: a failed report is late, not a page. */
export class SnsOwnerAlerts implements OwnerAlerts {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async reportFailed(run: Pick<ReportRun, 'id' | 'kind' | 'period' | 'scheduleId'>, reason: string): Promise<void> {
    const { subject, text } = reportFailedAlert(run, reason);
    await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: subject, Message: text }));
  }
}
