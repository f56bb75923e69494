import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { CloudWatchOperationalSeries } from '../adapters/aws/cloudwatch-operational-series';
import { cloudWatchClient, s3Client, sesClient, snsClient, sqsClient } from '../adapters/aws/clients';
import { emfMetrics } from '../adapters/aws/emf-metrics';
import { LambdaFailureRecords } from '../adapters/aws/lambda-failure-records';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { S3ObjectStore } from '../adapters/aws/s3-object-store';
import { SesReportMailer } from '../adapters/aws/ses-report-mailer';
import { SnsOwnerAlerts } from '../adapters/aws/sns-owner-alerts';
import type { Logger } from '../adapters/log';
import { SqlReportIndex } from '../adapters/pg/sql-report-index';
import { SqlReportScheduleStore } from '../adapters/pg/sql-report-schedules';
import { parseEnv } from '../config/env';
import { METRICS_NAMESPACE, connectDatabase, reportEnv } from '../config/lambda';
import { reportRenderersOf } from '../config/report-renderers';
import { reportSources } from '../config/report-sources';
import { slug } from '../domain/api/input-bounds';
import { REPORT_SERVICE } from '../ports/anomalies';
import type { ReportJob, ReportMailer } from '../ports/reports';
import { makeReportWorker, type ReportWorker } from '../use-cases/report-worker';
import { lazyHandler } from './lazy';

/** A job as the queue carries it (functions/adapters/aws/sqs-report-jobs.ts and the scheduler's Input). */
export const reportJobSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('run'), reportId: z.uuid() }),
  // EventBridge Scheduler's <aws.scheduler.scheduled-time>, as 2027-03-29T12:00:00Z.
  z.strictObject({ type: z.literal('schedule'), scheduleId: slug, firedAt: z.iso.datetime({ offset: true }) }),
  z.strictObject({ type: z.literal('test'), scheduleId: slug, reportId: z.uuid() }),
]) satisfies z.ZodType<ReportJob>;

/**
 * SQS batch in, partial batch response out: each record's body is one job for the worker. A body
 * that is no job, and a job the worker threw on, are reported failed, so SQS delivers them again
 * after the visibility timeout and, after the third receive, moves them to the DLQ. The worker's
 * guardrails (a run taken once, a period mailed once) make a second delivery harmless.
 */
export function makeReportHandler(deps: { readonly work: ReportWorker; readonly logger: Pick<Logger, 'warn' | 'error'> }) {
  return async function handleReportJobs(event: SQSEvent): Promise<SQSBatchResponse> {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const job = parseJob(record.body);
      if (!job.success) {
        // The path of what is wrong, never the body: a stray message could carry anything.
        deps.logger.warn('report job unreadable', { messageId: record.messageId, problem: job.problem });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        await deps.work(job.data);
      } catch (error) {
        deps.logger.error('report job failed', { messageId: record.messageId, job: job.data.type, receives: record.attributes.ApproximateReceiveCount, error: error instanceof Error ? error.message : 'unknown' });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

function parseJob(body: string): { success: true; data: ReportJob } | { success: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { success: false, problem: 'not JSON' };
  }
  const parsed = reportJobSchema.safeParse(json);
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, problem: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'job'}: ${issue.message}`).join('; ') };
}

/** Without a sender configured the stack mails nothing: each mailing fails with this reason, shown on the run. */
const noSender: ReportMailer = {
  send: () => Promise.reject(new Error('no report sender is configured (set reportEmailFrom or alertEmailFrom)')),
};

const logger = lambdaLogger('report');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(reportEnv);
    const db = await connectDatabase({ logger });
    const clock = { now: () => new Date() };
    const metrics = emfMetrics(METRICS_NAMESPACE, REPORT_SERVICE);
    const work = makeReportWorker({
      index: new SqlReportIndex(db),
      schedules: new SqlReportScheduleStore(db),
      sources: reportSources({
        db,
        deadLetters: new LambdaFailureRecords(sqsClient(), { aggregate: config.AGGREGATE_DLQ_URL, detect: config.DETECT_DLQ_URL }),
        operational: new CloudWatchOperationalSeries(cloudWatchClient(), METRICS_NAMESPACE),
        k: config.K_ANONYMITY,
        clock,
        hourRollupDays: config.RETENTION_HOUR_ROLLUP_DAYS,
      }),
      renderersOf: reportRenderersOf,
      objects: new S3ObjectStore(s3Client(), config.REPORT_BUCKET),
      mailer: config.REPORT_EMAIL_FROM === undefined ? noSender : new SesReportMailer(sesClient(), config.REPORT_EMAIL_FROM),
      owners: new SnsOwnerAlerts(snsClient(), config.REPORT_OWNER_TOPIC_ARN),
      clock,
      sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
      logger,
      metrics,
    });
    return makeReportHandler({ work, logger });
  }),
);
