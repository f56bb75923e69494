import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisConsumerEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ApiFunction, type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';
import { EncryptedQueueDestination, encryptedDeadLetterQueue } from './dead-letters';
import { Interventions } from './interventions';
import { SCHEDULED_RUN_NEEDS_NO_DLQ } from './processing';
import { acknowledgeFinding } from './nag';
import { MONITOR_EVERY_MS } from '../functions/use-cases/monitor';

export interface MonitoringProps {
  readonly stream: kinesis.IStream;
  /** The keys the stream's records are sealed under: read by key id, never listed or written. */
  readonly recordKeyTable: dynamodb.ITable;
  readonly database: FunctionBinding;
  readonly cache: FunctionBinding;
  /** Topics, template and sender: what a function needs to notify (lib/alerting.ts). */
  readonly delivery: FunctionBinding;
  readonly kAnonymity: number;
  /** Where alert messages link to. */
  readonly dashboardUrl: string;
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Event source settings of the detect consumer, exported so tests assert the same numbers. Every
 * second here is a second a person in crisis waits, so nothing is traded for throughput: no
 * batching window, small batches, and ten concurrent batches per shard (records of one user stay
 * in order, since the partition key is the pseudonym).
 */
export const DETECT_EVENT_SOURCE = {
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(0),
  parallelizationFactor: 10,
  retryAttempts: 3,
  // A safety signal older than this is no longer real-time: the DLQ and its alarm take it to a person.
  maxRecordAge: Duration.minutes(5),
} as const;

/**
 * The real-time side: the detect consumer (safety rules on each event, through an enhanced
 * fan-out consumer of its own so it never waits behind the aggregate function's batching), the
 * monitor that runs every minute (anomalies on the metric series, absence rules, repeats,
 * escalations), and the alerts API (alerts, acknowledgements, rules, silences, anomalies).
 */
export class Monitoring extends Construct {
  readonly key: kms.Key;
  readonly deadLetterQueue: sqs.Queue;
  readonly streamConsumer: kinesis.StreamConsumer;
  readonly detectFunction: HouseFunction;
  readonly monitorFunction: HouseFunction;
  readonly monitorSchedule: events.Rule;
  readonly alertsFunction: ApiFunction;
  readonly interventions: Interventions;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    ({ key: this.key, queue: this.deadLetterQueue } = encryptedDeadLetterQueue(this, 'Dead-letter queue of the detect consumer', props.removalPolicy));
    // Enhanced fan-out: records are pushed to this consumer within ~70 ms of arrival, on a read
    // throughput of its own, instead of it polling once a second and sharing 2 MB/s per shard
    // with the aggregate function.
    this.streamConsumer = new kinesis.StreamConsumer(this, 'DetectConsumer', { stream: props.stream, streamConsumerName: 'detect' });

    this.interventions = new Interventions(this, 'Interventions', { removalPolicy: props.removalPolicy });
    this.detectFunction = new HouseFunction(this, 'DetectFunction', {
      handler: 'detect',
      description: 'Kinesis consumer (enhanced fan-out): safety rules per event, alert lifecycle, SNS/SES/Redis delivery, interventions to the app',
      logRetention: props.logRetention,
      // More memory is more CPU: a faster cold start and evaluation on the path a page waits for.
      memorySize: 1024,
      timeout: Duration.seconds(30),
      environment: { DASHBOARD_URL: props.dashboardUrl },
      ...props.placement,
    })
      .bind(props.database)
      .bind(props.cache)
      .bind(props.delivery)
      .bind(this.interventions)
      .bindTable(props.recordKeyTable, 'RECORD_KEY_TABLE_NAME', 'lookup')
      .acknowledge(
        'HIPAA.Security-LambdaDLQ',
        "Invoked by a Kinesis event source mapping, never asynchronously: failed batches go to the mapping's on-failure destination (the encrypted dead-letter queue of this construct), which a function DLQ cannot replace.",
      )
      .acknowledge(
        'HIPAA.Security-LambdaConcurrency',
        'Concurrency is bounded by the event source mapping: at most the parallelization factor (10) invocations per shard, so it cannot exceed ten times the shard count.',
      );
    this.detectFunction.addEventSource(
      new KinesisConsumerEventSource(this.streamConsumer, {
        ...DETECT_EVENT_SOURCE,
        // LATEST would lose the events that arrive while the mapping is created or re-enabled.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new EncryptedQueueDestination(this.deadLetterQueue),
      }),
    );

    this.monitorFunction = new HouseFunction(this, 'MonitorFunction', {
      handler: 'monitor',
      description: 'Scheduled every minute: anomaly detection on the metric series, absence rules, repeat notifications and escalations',
      logRetention: props.logRetention,
      memorySize: 1024,
      timeout: Duration.seconds(50),
      environment: { DASHBOARD_URL: props.dashboardUrl },
      ...props.placement,
    })
      .bind(props.database)
      .bind(props.cache)
      .bind(props.delivery)
      .acknowledge('HIPAA.Security-LambdaDLQ', SCHEDULED_RUN_NEEDS_NO_DLQ);
    // The ingest function's error and latency series, read back from its embedded metrics.
    this.monitorFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    acknowledgeFinding(
      this.monitorFunction.role!,
      'AwsSolutions-IAM5[Resource::*]',
      'cloudwatch:GetMetricData takes no resource ARN (IAM has no resource type for metrics); the action only reads metric values, which hold counts and latencies, never events or identities.',
    );
    this.monitorSchedule = new events.Rule(this, 'MonitorSchedule', {
      description: 'Runs the monitor',
      schedule: events.Schedule.rate(Duration.millis(MONITOR_EVERY_MS)),
      targets: [new targets.LambdaFunction(this.monitorFunction, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    this.alertsFunction = new ApiFunction(this, 'AlertsFunction', {
      handler: 'alerts',
      description: 'GET /v1/alerts, POST /v1/alerts/{id}/ack, GET/PUT /v1/alert-rules, GET/POST/DELETE /v1/silences, GET /v1/anomalies',
      logRetention: props.logRetention,
      environment: { K_ANONYMITY: String(props.kAnonymity) },
      ...props.placement,
    })
      // Reads and configures only: notifications go out from detect and monitor.
      .bind(props.database);
  }
}
