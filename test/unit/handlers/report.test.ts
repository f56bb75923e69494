import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { makeReportHandler, reportJobSchema } from '../../../functions/handlers/report';
import type { ReportJob } from '../../../functions/ports/reports';
import { scheduledRunId } from '../../../functions/use-cases/report-worker';

function record(messageId: string, body: string, receives = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: String(receives), SentTimestamp: '0', SenderId: 'sender', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:report-jobs',
    awsRegion: 'us-east-1',
  };
}
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const RUN: ReportJob = { type: 'run', reportId: '0b7a6c1e-8f0d-4d2a-9a55-3f1f2c4e5d6a' };
const FIRED: ReportJob = { type: 'schedule', scheduleId: 'weekly-outcomes', firedAt: '2027-03-29T12:00:00Z' };

function setUp(fails: (job: ReportJob) => boolean = () => false) {
  const worked: ReportJob[] = [];
  const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const handler = makeReportHandler({
    work: async (job) => {
      worked.push(job);
      if (fails(job)) throw new Error('database unreachable');
    },
    logger: {
      warn: (message: string, fields?: Record<string, unknown>) => logged.push({ level: 'warn', message, fields: fields ?? {} }),
      error: (message: string, fields?: Record<string, unknown>) => logged.push({ level: 'error', message, fields: fields ?? {} }),
    },
  });
  return { handler, worked, logged };
}

describe('the report handler', () => {
  it('hands each job to the worker and reports no failure when all went through', async () => {
    const { handler, worked } = setUp();

    const answer = await handler(batch(record('m1', JSON.stringify(RUN)), record('m2', JSON.stringify(FIRED))));

    expect(answer).toEqual({ batchItemFailures: [] });
    expect(worked).toEqual([RUN, FIRED]);
  });

  it('reports a job the worker threw on as failed, so SQS delivers it again and then dead-letters it', async () => {
    const { handler, logged } = setUp((job) => job.type === 'run');

    const answer = await handler(batch(record('m1', JSON.stringify(RUN), 2), record('m2', JSON.stringify(FIRED))));

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(logged).toEqual([{ level: 'error', message: 'report job failed', fields: { messageId: 'm1', job: 'run', receives: '2', error: 'database unreachable' } }]);
  });

  it.each([
    ['not JSON', '{"type":', 'not JSON'],
    ['an unknown job type', JSON.stringify({ type: 'delete', reportId: RUN.reportId }), 'type'],
    ['a report id that is no UUID', JSON.stringify({ type: 'run', reportId: "1; DROP TABLE report_runs" }), 'reportId'],
    ['a firing time that is no instant', JSON.stringify({ ...FIRED, firedAt: '<aws.scheduler.scheduled-time>' }), 'firedAt'],
    ['an unexpected field', JSON.stringify({ ...RUN, recipients: ['someone@example.org'] }), 'job'],
  ])('reports a body with %s as failed without working on it or logging the body', async (_, body, named) => {
    const { handler, worked, logged } = setUp();

    const answer = await handler(batch(record('poison', body)));

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    expect(worked).toEqual([]);
    expect(logged).toEqual([{ level: 'warn', message: 'report job unreadable', fields: { messageId: 'poison', problem: expect.stringContaining(named) as string } }]);
    expect(JSON.stringify(logged)).not.toContain('someone@example.org');
  });

  it("reads every job the queue carries: the API's, the scheduler's Input with its time filled in, and a scheduled run's own id", () => {
    const jobs: ReportJob[] = [RUN, FIRED, { type: 'test', scheduleId: 'weekly-outcomes', reportId: scheduledRunId('weekly-outcomes', FIRED.firedAt) }];
    expect(jobs.map((job) => reportJobSchema.parse(JSON.parse(JSON.stringify(job))))).toEqual(jobs);
  });
});
