import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { IMPORT_PREFIX, IMPORT_SUFFIXES } from '../functions/handlers/import';
import { type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';
import type { Storage } from './storage';

export interface HistoryImportProps {
  readonly storage: Storage;
  readonly database: FunctionBinding;
  /** Present in AWS, where PostgreSQL lives in the VPC; absent for LocalStack. */
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The minute rollups' retention: history older than it goes to its hour and day rows only. */
  readonly minuteRollupDays: number;
}

// A history file holds the app's raw user ids: kept only as long as someone needs to see what was imported.
const IMPORT_FILE_DAYS = 30;

/**
 * History import (DESIGN.md "Behaviour analysis"): a file put under `imports/` in the imports
 * bucket starts the import function, which admits each line as ingest would and writes
 * `FILE.result.json` beside it. S3 tells EventBridge, not the function, so the stack needs no
 * notification custom resource and the rule can retry.
 */
export class HistoryImport extends Construct {
  readonly bucket: s3.Bucket;
  readonly importFunction: HouseFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: HistoryImportProps) {
    super(scope, id);
    this.bucket = props.storage.dataBucket(this, 'ImportBucket', {
      logPrefix: 'import-bucket/',
      removalPolicy: props.removalPolicy,
      lifecycleRules: [
        {
          id: 'import-file-retention',
          expiration: Duration.days(IMPORT_FILE_DAYS),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    // As CloudFormation has it, not as `eventBridgeEnabled`, which CDK implements with a
    // notifications custom resource (a function of its own, with a managed policy).
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };

    this.importFunction = new HouseFunction(this, 'ImportFunction', {
      handler: 'import',
      description: 'History import: a JSON Lines file under imports/ in the imports bucket, admitted as ingest admits events, into the rollups',
      logRetention: props.logRetention,
      memorySize: 1024,
      // Lambda's limit: about 2,000,000 events at the aggregate path's rate; larger histories go in several files.
      timeout: Duration.minutes(15),
      environment: { RETENTION_MINUTE_ROLLUP_DAYS: String(props.minuteRollupDays) },
      ...props.placement,
    })
      .bind(props.database)
      .bindTable(props.storage.consentTable, 'CONSENT_TABLE_NAME', 'lookup')
      .bindSecret(props.storage.pepperSecret, 'PEPPER_SECRET_ARN')
      .bindBucket(this.bucket, 'IMPORT_BUCKET', IMPORT_PREFIX)
      .acknowledge(
        'HIPAA.Security-LambdaConcurrency',
        'Runs once per file an operator puts under imports/: its concurrency is bounded by that, and concurrent imports serialise their writes on the rollup writer lock; reserving concurrency takes it from the account pool.',
      )
      .acknowledge(
        'HIPAA.Security-LambdaDLQ',
        'Invoked by an EventBridge rule that retries it; every outcome, a failure too, is written beside the file as FILE.result.json, and putting the file again runs it again (idempotent by eventId), so a queued copy of the event would add nothing.',
      );

    this.rule = new events.Rule(this, 'ImportRule', {
      description: 'Starts the history import for a JSON Lines file put under imports/',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.bucket.bucketName] },
          object: { key: IMPORT_SUFFIXES.flatMap((suffix) => events.Match.wildcard(`${IMPORT_PREFIX}*${suffix}`)) },
        },
      },
      targets: [new targets.LambdaFunction(this.importFunction, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });
  }
}
