import type { RetentionPolicy } from '../functions/domain/privacy/retention';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';
import { ROLL_UP_EVERY_MS } from '../functions/use-cases/roll-up';
import { AGGREGATE_BATCH_SIZE } from '../functions/use-cases/aggregate';
import { EncryptedQueueDestination, encryptedDeadLetterQueue } from './dead-letters';

export interface ProcessingProps {
  readonly stream: kinesis.IStream;
  /** The keys the stream's records are sealed under: read by key id, never listed or written. */
  readonly recordKeyTable: dynamodb.ITable;
  /** Days kept of each kind of data the purge deletes (see functions/domain/privacy/retention.ts). */
  readonly retention: RetentionPolicy;
  /** The k of metric answers: the roll-up decides each day it packs for it. */
  readonly kAnonymity: number;
  readonly database: FunctionBinding;
  readonly cache: FunctionBinding;
  /** Present in AWS, where PostgreSQL and Redis live in the VPC; absent for LocalStack. */
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** Batch tuning of the stream-to-rollups path, exported so tests assert the same numbers. */
export const AGGREGATE_EVENT_SOURCE = {
  batchSize: AGGREGATE_BATCH_SIZE,
  // A shard takes at most 1,000 records a second: a full one fills a batch in 2 s, and the live
  // counters lag by as much more. Safety alerts do not wait for it: detect reads the stream on its
  // own, without a window. Whatever the count, the mapping ends a batch at Lambda's 6 MB payload.
  maxBatchingWindow: Duration.seconds(2),
  retryAttempts: 5,
  // Past an hour a record is stale for live counters; it goes to the DLQ for a replay instead.
  maxRecordAge: Duration.hours(1),
} as const;

// The event of a scheduled run carries no data, only the time it fired.
export const SCHEDULED_RUN_NEEDS_NO_DLQ =
  'Invoked by an EventBridge schedule whose event carries no data: a failed run is made good by the next one (each run works from the database state, not the event), and the Errors alarm reaches a person. A queued copy of a schedule tick would have nothing to replay.';

/**
 * The aggregate consumer (Kinesis -> minute rollups in PostgreSQL and live counters in Redis)
 * and the roll-up that folds closed minutes into hour and day rollups.
 */
export class Processing extends Construct {
  readonly key: kms.Key;
  readonly deadLetterQueue: sqs.Queue;
  readonly aggregateFunction: HouseFunction;
  readonly rollUpFunction: HouseFunction;
  readonly rollUpSchedule: events.Rule;
  readonly purgeFunction: HouseFunction;
  readonly purgeSchedule: events.Rule;

  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);

    ({ key: this.key, queue: this.deadLetterQueue } = encryptedDeadLetterQueue(this, 'Dead-letter queue of the aggregate consumer', props.removalPolicy));

    this.aggregateFunction = new HouseFunction(this, 'AggregateFunction', {
      handler: 'aggregate',
      description: 'Kinesis consumer: dedupe, rollups to PostgreSQL, live counters to Redis',
      logRetention: props.logRetention,
      memorySize: 1024,
      // A young generation of 2 x 64 MB instead of 2 x 16: a batch's short-lived objects die
      // before a scavenge, 8-13 % less of its CPU an event (README "Benchmarks", aggregate path).
      nodeOptions: ['--max-semi-space-size=64'],
      timeout: Duration.minutes(2),
      // Events of minutes past this retention go to their hour and day rows only.
      environment: { RETENTION_MINUTE_ROLLUP_DAYS: String(props.retention.minuteRollupDays) },
      ...props.placement,
    })
      .bind(props.database)
      .bind(props.cache)
      .bindTable(props.recordKeyTable, 'RECORD_KEY_TABLE_NAME', 'lookup')
      .acknowledge(
        'HIPAA.Security-LambdaDLQ',
        "Invoked by a Kinesis event source mapping, never asynchronously: failed batches go to the mapping's on-failure destination (the encrypted dead-letter queue below), which a function DLQ cannot replace.",
      )
      .acknowledge(
        'HIPAA.Security-LambdaConcurrency',
        'Concurrency is bounded by the event source mapping: one invocation per shard at a time (parallelization factor 1), so it cannot exceed the shard count.',
      );

    this.aggregateFunction.addEventSource(
      new KinesisEventSource(props.stream, {
        ...AGGREGATE_EVENT_SOURCE,
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        // Halving a failing batch isolates a poison record instead of blocking the shard.
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new EncryptedQueueDestination(this.deadLetterQueue),
      }),
    );

    this.rollUpFunction = new HouseFunction(this, 'RollUpFunction', {
      handler: 'roll-up',
      description: 'Scheduled: folds closed minutes of the rollups into hour and day rows',
      logRetention: props.logRetention,
      memorySize: 1024,
      // Catching up after a pause goes on over several runs; each stops 30 s before this.
      timeout: Duration.minutes(5),
      environment: { K_ANONYMITY: String(props.kAnonymity) },
      ...props.placement,
    })
      .bind(props.database)
      .acknowledge('HIPAA.Security-LambdaDLQ', SCHEDULED_RUN_NEEDS_NO_DLQ);
    this.rollUpSchedule = new events.Rule(this, 'RollUpSchedule', {
      description: 'Runs the roll-up of the minute rollups',
      schedule: events.Schedule.rate(Duration.millis(ROLL_UP_EVERY_MS)),
      // A missed run is made good by the next one: no retries piling up behind the lock.
      targets: [new targets.LambdaFunction(this.rollUpFunction, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    this.purgeFunction = new HouseFunction(this, 'PurgeFunction', {
      handler: 'purge',
      description: 'Scheduled: deletes the event ids, minute and hour rollups, audit entries and report index entries past their retention',
      logRetention: props.logRetention,
      timeout: Duration.minutes(15),
      environment: {
        RETENTION_IDEMPOTENCY_KEY_DAYS: String(props.retention.idempotencyKeyDays),
        RETENTION_MINUTE_ROLLUP_DAYS: String(props.retention.minuteRollupDays),
        RETENTION_HOUR_ROLLUP_DAYS: String(props.retention.hourRollupDays),
        RETENTION_AUDIT_DAYS: String(props.retention.auditDays),
        RETENTION_REPORT_DAYS: String(props.retention.reportDays),
        RETENTION_ALERT_DAYS: String(props.retention.alertDays),
      },
      ...props.placement,
    })
      .bind(props.database)
      .acknowledge('HIPAA.Security-LambdaDLQ', SCHEDULED_RUN_NEEDS_NO_DLQ);
    this.purgeSchedule = new events.Rule(this, 'PurgeSchedule', {
      description: 'Runs the retention purge',
      schedule: events.Schedule.rate(Duration.days(1)),
      // A failed purge is made good by the next day's.
      targets: [new targets.LambdaFunction(this.purgeFunction, { retryAttempts: 2 })],
    });
  }
}
