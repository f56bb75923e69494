import { Duration, Stack, Token, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Alerting } from './alerting';
import { type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';
import { customerManagedKey } from './keys';
import { acknowledgeFinding } from './nag';
import type { Storage } from './storage';

/**
 * A stack value as cdk-nag writes it in a finding's id: the pseudo-parameter where the stack is
 * environment-agnostic, the value where it is not (`cdk synth` with AWS_REGION set).
 */
const asNagShows = (value: string, pseudoParameter: string) => (Token.isUnresolved(value) ? `<${pseudoParameter}>` : value);

export interface ReportingProps {
  readonly database: FunctionBinding;
  readonly storage: Storage;
  /** Its operations (warning) topic carries the owners' alerts; its sender mails reports when `reportEmailFrom` is not another one. */
  readonly alerting: Alerting;
  /** The sender of report e-mail; without it (and without the alert sender), reports are kept but not mailed. */
  readonly reportEmailFrom?: string;
  readonly kAnonymity: number;
  /** Days hour rollups are kept: local days are summed from them. */
  readonly hourRollupRetentionDays: number;
  /** The stream consumers' on-failure queues, by consumer: the operations report lists their dead letters. */
  readonly consumerDeadLetterQueues: Readonly<Record<'aggregate' | 'detect', sqs.Queue>>;
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The variables `bindTo` and the report function carry, for the configuration schemas (functions/config/lambda.ts). */
export const REPORTING_ENV = {
  queueUrl: 'REPORT_QUEUE_URL',
  queueArn: 'REPORT_QUEUE_ARN',
  scheduleGroup: 'REPORT_SCHEDULE_GROUP',
  schedulerRoleArn: 'REPORT_SCHEDULER_ROLE_ARN',
  bucket: 'REPORT_BUCKET',
  emailFrom: 'REPORT_EMAIL_FROM',
  ownerTopicArn: 'REPORT_OWNER_TOPIC_ARN',
  aggregateDeadLettersUrl: 'AGGREGATE_DLQ_URL',
  detectDeadLettersUrl: 'DETECT_DLQ_URL',
} as const;

export const REPORT_FUNCTION = {
  // 1,769 MB is one full vCPU: a PDF and an XLSX of a month render in seconds on one core (bench/report-render.ts).
  memorySize: 1769,
  timeout: Duration.minutes(5),
} as const;

/**
 * The job queue's tuning. A job is received up to three times (the first try and two retries, each
 * after the visibility timeout), then it waits in the DLQ. The visibility timeout is six times the
 * function's timeout, as Lambda advises for SQS sources, so a job is never handed to a second
 * worker while the first may still be running it.
 */
export const REPORT_QUEUE = {
  maxReceiveCount: 3,
  visibilityTimeout: Duration.minutes(6 * REPORT_FUNCTION.timeout.toMinutes()),
  batchSize: 1,
  // Two reports at once at most: each holds a database connection and a core for minutes.
  maxConcurrency: 2,
} as const;

/**
 * pdfkit 0.20 (under @react-pdf/renderer) loads its standard fonts at run time with
 * createRequire(import.meta.url)('#standard-fonts/Helvetica'), which esbuild does not follow:
 * the bundle carries pdfkit's font modules beside it, and a package.json whose `imports` map
 * resolves that specifier to them (test/infra/bundling.test.ts renders a PDF from the bundle).
 */
export const PDF_FONT_BUNDLE = {
  folders: ['node_modules/pdfkit/js/standard-fonts'],
  files: { 'package.json': JSON.stringify({ imports: { '#standard-fonts/*': './standard-fonts/*.cjs' } }) },
} as const;

/**
 * Reports made in the background (issue 17): the report function takes jobs from an encrypted SQS
 * queue (POST /v1/reports, a schedule's test, and EventBridge Scheduler schedules, one per report
 * schedule in this construct's group), writes the files to the report bucket and mails links
 * through SES. The query function is bound to it to enqueue jobs and keep the schedules in step.
 */
export class Reporting extends Construct implements FunctionBinding {
  readonly key: kms.Key;
  readonly jobQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly reportFunction: HouseFunction;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The role EventBridge Scheduler assumes to send a schedule's job to the queue. */
  readonly schedulerRole: iam.Role;
  readonly ownerTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: ReportingProps) {
    super(scope, id);
    // Jobs name reports and schedules, never data or recipients; still under a key we control.
    this.key = customerManagedKey(this, 'Report job queues', props.removalPolicy);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    acknowledgeFinding(
      this.deadLetterQueue.node.defaultChild!,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the report job queue; its jobs are looked at and sent again by hand, and an alarm fires on the first one.',
    );
    this.jobQueue = new sqs.Queue(this, 'JobQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      visibilityTimeout: REPORT_QUEUE.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: REPORT_QUEUE.maxReceiveCount },
      removalPolicy: props.removalPolicy,
    });

    this.ownerTopic = props.alerting.warningTopic;
    const sender = this.sender(props);
    this.reportFunction = new HouseFunction(this, 'ReportFunction', {
      handler: 'report',
      description: 'SQS: makes a report run (PDF, XLSX, CSV, HTML) into the report bucket and mails its links',
      logRetention: props.logRetention,
      ...REPORT_FUNCTION,
      environment: {
        K_ANONYMITY: String(props.kAnonymity),
        RETENTION_HOUR_ROLLUP_DAYS: String(props.hourRollupRetentionDays),
        [REPORTING_ENV.aggregateDeadLettersUrl]: props.consumerDeadLetterQueues.aggregate.queueUrl,
        [REPORTING_ENV.detectDeadLettersUrl]: props.consumerDeadLetterQueues.detect.queueUrl,
        // React (under @react-pdf/renderer) runs its development checks unless told otherwise.
        NODE_ENV: 'production',
        [REPORTING_ENV.ownerTopicArn]: this.ownerTopic.topicArn,
        ...(sender === undefined ? {} : { [REPORTING_ENV.emailFrom]: sender.emailIdentityName }),
      },
      bundledFolders: PDF_FONT_BUNDLE.folders,
      bundledFiles: PDF_FONT_BUNDLE.files,
      ...props.placement,
    })
      .bind(props.database)
      .bindBucket(props.storage.reportBucket, REPORTING_ENV.bucket, 'reports/')
      .acknowledge(
        'HIPAA.Security-LambdaDLQ',
        "Invoked by an SQS event source mapping, never asynchronously: a job that fails three times moves to the job queue's own dead-letter queue (redrive policy), which a function DLQ cannot replace.",
      )
      .acknowledge('HIPAA.Security-LambdaConcurrency', `Concurrency is bounded by the SQS event source mapping's maximum concurrency (${REPORT_QUEUE.maxConcurrency}), without taking reserved capacity from the account pool.`);
    this.reportFunction.addEventSource(
      new SqsEventSource(this.jobQueue, { batchSize: REPORT_QUEUE.batchSize, reportBatchItemFailures: true, maxConcurrency: REPORT_QUEUE.maxConcurrency }),
    );
    // Owners' alerts, with the data-key actions SNS needs on the alert topics' key (not grantPublish's GenerateDataKey*).
    this.reportFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.ownerTopic.topicArn] }));
    props.alerting.key.grant(this.reportFunction, 'kms:Decrypt', 'kms:GenerateDataKey');
    // The operations report: the consumers' dead letters, peeked (received, then made visible again), and ingest's metrics.
    for (const queue of Object.values(props.consumerDeadLetterQueues)) {
      queue.grant(this.reportFunction, 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility');
      queue.encryptionMasterKey?.grant(this.reportFunction, 'kms:Decrypt');
    }
    this.reportFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    if (sender !== undefined) {
      this.reportFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['ses:SendEmail'], resources: [sender.emailIdentityArn] }));
    }

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', { removalPolicy: props.removalPolicy });
    const stack = Stack.of(this);
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to send the jobs of report schedules to the report job queue',
      // Only schedules of this report group can use it (the confused-deputy guard).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn } },
      }),
    });
    this.grantEnqueue(this.schedulerRole);
    acknowledgeFinding(
      this.schedulerRole.node.findChild('DefaultPolicy').node.defaultChild!,
      'HIPAA.Security-IAMNoInlinePolicy',
      "The policy is CDK's grant policy of this one role (send to the report job queue, with its key's data-key actions); a customer-managed policy could be attached to other principals, which it must not be.",
    );
  }

  /**
   * The query function's side: the queue's URL and ARN, the schedule group and the scheduler role
   * (variables REPORTING_ENV), sending jobs, and creating, updating and deleting the group's
   * schedules with the scheduler role passed to them, and no other role.
   */
  bindTo(fn: HouseFunction): void {
    fn.addEnvironment(REPORTING_ENV.queueUrl, this.jobQueue.queueUrl);
    fn.addEnvironment(REPORTING_ENV.queueArn, this.jobQueue.queueArn);
    fn.addEnvironment(REPORTING_ENV.scheduleGroup, this.scheduleGroup.scheduleGroupName);
    fn.addEnvironment(REPORTING_ENV.schedulerRoleArn, this.schedulerRole.roleArn);
    this.grantEnqueue(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'], resources: [this.scheduleArns()] }),
    );
    // ListSchedules has no resource-level permission: it takes the group as a parameter.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['scheduler:ListSchedules'], resources: ['*'] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledgeFinding(
      fn.role!,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${asNagShows(Stack.of(this).region, 'AWS::Region')}:${asNagShows(Stack.of(this).account, 'AWS::AccountId')}:schedule/${this.scheduleGroup.scheduleGroupName}/*]`,
      'Report schedules are made and removed at run time (PUT /v1/report-schedules), one per report schedule, so the grant names their group, not each schedule: create, update and delete only, in that group.',
    );
    acknowledgeFinding(
      fn.role!,
      'AwsSolutions-IAM5[Resource::*]',
      'Only actions without resource-level permissions are on *: X-Ray (active tracing), the Lambda ENI actions in the VPC, and scheduler:ListSchedules, which the report timers call for their own group only. Every other grant names its resource ARN; test/infra/function-permissions.test.ts pins the action list.',
    );
  }

  /** Sending a job: sqs:SendMessage on the job queue, and the data key its encryption needs. */
  private grantEnqueue(grantee: iam.IGrantable): void {
    this.jobQueue.grant(grantee, 'sqs:SendMessage');
    this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  private scheduleArns(): string {
    return Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.scheduleGroup.scheduleGroupName}/*` });
  }

  /** The alert sender when it is the report sender too (an identity is made once), else one of its own. */
  private sender(props: ReportingProps): ses.IEmailIdentity | undefined {
    const alertSender = props.alerting.senderIdentity;
    if (props.reportEmailFrom === undefined || (alertSender !== undefined && props.reportEmailFrom === alertSender.emailIdentityName)) return alertSender;
    return new ses.EmailIdentity(this, 'Sender', { identity: ses.Identity.email(props.reportEmailFrom) });
  }
}
