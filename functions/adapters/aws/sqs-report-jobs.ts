import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ReportJob, ReportJobQueue } from '../../ports/reports';

/** The report function's job queue: one message per job, its body the job as JSON (functions/handlers/report.ts reads it). */
export class SqsReportJobQueue implements ReportJobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(job: ReportJob): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(job) }));
  }
}
