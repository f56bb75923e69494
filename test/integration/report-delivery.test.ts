import { randomBytes } from 'node:crypto';
import { GetScheduleCommand, ListSchedulesCommand, ResourceNotFoundException, type GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { VerifyEmailIdentityCommand, type SESClient } from '@aws-sdk/client-ses';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { schedulerClient, sesClient, snsClient, sqsClient } from '../../functions/adapters/aws/clients';
import { LambdaFailureRecords } from '../../functions/adapters/aws/lambda-failure-records';
import { SchedulerReportTimers, ensureScheduleGroup } from '../../functions/adapters/aws/scheduler-report-timers';
import { SesReportMailer } from '../../functions/adapters/aws/ses-report-mailer';
import { SnsOwnerAlerts } from '../../functions/adapters/aws/sns-owner-alerts';
import { ensureQueue } from '../../functions/adapters/aws/sqs-dead-letter-queue';
import { SqsReportJobQueue } from '../../functions/adapters/aws/sqs-report-jobs';
import { reportFailedAlert } from '../../functions/domain/reports/owner-alert';
import type { ReportSchedule } from '../../functions/domain/reports/schedule';
import type { ReportJob } from '../../functions/ports/reports';
import { describeWithServices, urls } from '../support/services';
import { motoData, startPrivateMoto, tapTopic, type PrivateMoto } from '../support/moto';

const run = randomBytes(4).toString('hex');

describeWithServices(['moto'], 'SqsReportJobQueue against moto', () => {
  const sqs = sqsClient({ endpoint: urls.moto });
  let queueUrl: string;

  beforeAll(async () => {
    queueUrl = await ensureQueue(sqs, `report-jobs-${run}`);
  });
  afterAll(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it('sends each job as one message whose body is the job as JSON', async () => {
    const jobs: ReportJob[] = [
      { type: 'run', reportId: '0b7a6c1e-8f0d-4d2a-9a55-3f1f2c4e5d6a' },
      { type: 'schedule', scheduleId: 'weekly-outcomes', firedAt: '2027-03-29T12:00:00Z' },
      { type: 'test', scheduleId: 'weekly-outcomes', reportId: '5a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6' },
    ];
    const queue = new SqsReportJobQueue(sqs, queueUrl);
    for (const job of jobs) await queue.enqueue(job);

    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages.map((message) => JSON.parse(message.Body!) as ReportJob)).toEqual(jobs);
  });
});

describeWithServices(['moto'], 'SchedulerReportTimers against moto', () => {
  const scheduler = schedulerClient({ endpoint: urls.moto });
  const groupName = `reports-${run}`;
  const options = { groupName, queueArn: `arn:aws:sqs:us-east-1:123456789012:report-jobs-${run}`, roleArn: 'arn:aws:iam::123456789012:role/report-scheduler' };
  const timers = new SchedulerReportTimers(scheduler, options);

  const schedule = (id: string, change: Partial<ReportSchedule> = {}): ReportSchedule => ({
    id,
    kind: 'outcomes',
    cron: '0 8 * * MON',
    timeZone: 'America/New_York',
    period: 'previous_week',
    formats: ['pdf'],
    recipients: ['clinical-lead@example.org'],
    enabled: true,
    ...change,
  });
  const get = (name: string) => scheduler.send(new GetScheduleCommand({ GroupName: groupName, Name: name }));
  const names = async () => ((await scheduler.send(new ListSchedulesCommand({ GroupName: groupName }))).Schedules ?? []).map((s) => s.Name).sort();
  const firing = (answer: GetScheduleCommandOutput) => ({
    expression: answer.ScheduleExpression,
    timeZone: answer.ScheduleExpressionTimezone,
    window: answer.FlexibleTimeWindow,
    state: answer.State,
    target: { arn: answer.Target?.Arn, role: answer.Target?.RoleArn, input: JSON.parse(answer.Target?.Input ?? 'null') as unknown },
  });

  beforeAll(async () => {
    await ensureScheduleGroup(scheduler, groupName);
  });

  it('keeps an existing group and its schedules when asked to ensure it again', async () => {
    await timers.sync([schedule('kept')]);

    await ensureScheduleGroup(scheduler, groupName);

    expect(await names()).toEqual(['kept']);
  });

  it('makes one schedule per enabled report schedule, in its zone, sending the schedule job with the time it was due', async () => {
    await timers.sync([
      schedule('weekly-outcomes'),
      schedule('daily-operations', { kind: 'operations', cron: '30 6 * * *', timeZone: 'Europe/London', period: 'previous_day' }),
      schedule('paused', { enabled: false }),
    ]);

    expect(await names()).toEqual(['daily-operations', 'weekly-outcomes']);
    expect(firing(await get('weekly-outcomes'))).toEqual({
      expression: 'cron(0 8 ? * MON *)',
      timeZone: 'America/New_York',
      window: { Mode: 'OFF' },
      state: 'ENABLED',
      target: { arn: options.queueArn, role: options.roleArn, input: { type: 'schedule', scheduleId: 'weekly-outcomes', firedAt: '<aws.scheduler.scheduled-time>' } },
    });
    expect(firing(await get('daily-operations'))).toMatchObject({ expression: 'cron(30 6 * * ? *)', timeZone: 'Europe/London' });
  });

  it('changes nothing when the same set is synced again', async () => {
    const set = [schedule('weekly-outcomes'), schedule('monthly', { cron: '0 7 1 * *', period: 'previous_month' })];
    await timers.sync(set);
    const before = firing(await get('monthly'));

    await timers.sync(set);

    expect(await names()).toEqual(['monthly', 'weekly-outcomes']);
    expect(firing(await get('monthly'))).toEqual(before);
  });

  it('updates a changed schedule, and deletes one disabled or removed', async () => {
    await timers.sync([schedule('weekly-outcomes'), schedule('monthly', { cron: '0 7 1 * *' }), schedule('gone')]);

    await timers.sync([schedule('weekly-outcomes', { cron: '0 9 * * 1-5', timeZone: 'Australia/Sydney' }), schedule('monthly', { enabled: false })]);

    expect(await names()).toEqual(['weekly-outcomes']);
    expect(firing(await get('weekly-outcomes'))).toMatchObject({ expression: 'cron(0 9 ? * MON,TUE,WED,THU,FRI *)', timeZone: 'Australia/Sydney' });
    await expect(get('gone')).rejects.toThrow(ResourceNotFoundException);
  });

  it('leaves the schedules of other groups alone', async () => {
    const otherGroup = `other-${run}`;
    await ensureScheduleGroup(scheduler, otherGroup);
    await new SchedulerReportTimers(scheduler, { ...options, groupName: otherGroup }).sync([schedule('elsewhere')]);

    await timers.sync([]);

    expect(await names()).toEqual([]);
    expect((await scheduler.send(new GetScheduleCommand({ GroupName: otherGroup, Name: 'elsewhere' }))).Name).toBe('elsewhere');
  });
});

// On a moto of its own: the messages are read back from moto's model dump, which any model another
// suite leaves on the shared moto can break for everyone.
describeWithServices(
  ['moto'],
  'SesReportMailer against moto',
  () => {
    let moto: PrivateMoto;
    let ses: SESClient;
    const from = `reports-${run}@example.org`;

    beforeAll(async () => {
      moto = await startPrivateMoto();
      ses = sesClient({ endpoint: moto.endpoint });
    }, 60_000);
    afterAll(async () => {
      ses.destroy();
      await moto.stop();
    });

    const sentFrom = async () => (await motoData(moto.endpoint, 'ses', 'Message')).filter((message) => message['source'] === from);

    it('sends the subject, text and HTML to the recipients as blind copies, read back from moto', async () => {
      await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: from }));
      const recipients = ['clinical-lead@example.org', 'analytics@example.org'];
      const mail = { subject: 'Outcomes report, week 12 of 2027', text: 'Download: https://example.org/r', html: '<p><a href="https://example.org/r">Download</a></p>' };

      await new SesReportMailer(ses, from).send(recipients, mail);

      const sent = await sentFrom();
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ subject: mail.subject, destinations: { BccAddresses: recipients } });
      expect(JSON.stringify(sent[0])).toContain('https://example.org/r');
    });

    it('throws when SES refuses the mail (an unverified sender)', async () => {
      await expect(new SesReportMailer(ses, `unverified-${run}@example.org`).send(['a@example.org'], { subject: 's', text: 't', html: '<p>t</p>' })).rejects.toThrow(/not verified/);
    });
  },
  { commands: ['moto_server'] },
);

describeWithServices(['moto'], 'SnsOwnerAlerts against moto', () => {
  it("publishes a failed report's alert to the operations topic: which run, which period, why", async () => {
    const sns = snsClient({ endpoint: urls.moto });
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `owners-${run}` }));
    const tap = await tapTopic(sns, sqsClient({ endpoint: urls.moto }), TopicArn!, `owners-${run}`);
    const failed = {
      id: '0b7a6c1e-8f0d-4d2a-9a55-3f1f2c4e5d6a',
      kind: 'outcomes' as const,
      period: { from: '2027-03-22T00:00:00-04:00', to: '2027-03-29T00:00:00-04:00', timeZone: 'America/New_York', label: '2027-W12' },
      scheduleId: 'weekly-outcomes',
    };
    try {
      await new SnsOwnerAlerts(sns, TopicArn!).reportFailed(failed, 'the PDF came out empty');

      const [received, ...others] = await tap.receive();
      expect(others).toEqual([]);
      expect(received).toMatchObject({ Subject: 'Report failed: outcomes 2027-W12 (schedule weekly-outcomes)', Message: reportFailedAlert(failed, 'the PDF came out empty').text });
      expect(received!.Message).toContain(failed.id);
      expect(received!.Message).toContain('Why: the PDF came out empty');
    } finally {
      await tap.close();
    }
  });
});

describeWithServices(['moto'], 'LambdaFailureRecords against moto', () => {
  it("heads each consumer's on-failure records, oldest first, and leaves them on the queues", async () => {
    const sqs = sqsClient({ endpoint: urls.moto });
    const queues = { aggregate: await ensureQueue(sqs, `aggregate-dlq-${run}`), detect: await ensureQueue(sqs, `detect-dlq-${run}`) };
    // The documented shape of a Kinesis event source mapping's on-failure record.
    const failure = (timestamp: string, batchSize: number) =>
      JSON.stringify({
        requestContext: { requestId: 'r', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp,
        KinesisBatchInfo: { shardId: 'shardId-000000000000', startSequenceNumber: '1', endSequenceNumber: '9', batchSize, streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/events' },
      });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.detect, MessageBody: failure('2027-03-29T10:05:00.000Z', 12) }));
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.aggregate, MessageBody: failure('2027-03-29T10:10:00.000Z', 500) }));

      const headings = await new LambdaFailureRecords(sqs, queues).headings(100);

      expect(headings).toEqual([
        { consumer: 'detect', reason: 'RetryAttemptsExhausted: Unhandled', attempts: 6, records: 12, sentAt: new Date('2027-03-29T10:05:00.000Z') },
        { consumer: 'aggregate', reason: 'RetryAttemptsExhausted: Unhandled', attempts: 6, records: 500, sentAt: new Date('2027-03-29T10:10:00.000Z') },
      ]);
      const visible = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.aggregate, AttributeNames: ['ApproximateNumberOfMessages'] }));
      expect(visible.Attributes?.ApproximateNumberOfMessages).toBe('1');
    } finally {
      await Promise.all(Object.values(queues).map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))));
    }
  });
});
