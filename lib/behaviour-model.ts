import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MODEL_PREFIX, MODEL_RUN_HOUR_UTC } from '../functions/use-cases/run-models';
import { type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';
import { SCHEDULED_RUN_NEEDS_NO_DLQ } from './processing';
import type { Storage } from './storage';

export interface BehaviourModelProps {
  readonly storage: Storage;
  readonly database: FunctionBinding;
  readonly kAnonymity: number;
  /** Present in AWS, where PostgreSQL lives in the VPC; absent for LocalStack. */
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

// Model artefacts hold parameters and quality figures, no person's data: kept long enough to compare a year of nightly versions.
const MODEL_ARTEFACT_DAYS = 400;

/**
 * The behaviour models (DESIGN.md "Behaviour analysis"): a function run nightly by EventBridge
 * that fits the archetypes, mines the sequences and trains the outcome model over the feature
 * rows, writes them where their routes read them, and keeps each version's artefact with its
 * quality figures in the model bucket (SSE-KMS, versioned).
 */
export class BehaviourModel extends Construct {
  readonly bucket: s3.Bucket;
  readonly modelFunction: HouseFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: BehaviourModelProps) {
    super(scope, id);
    this.bucket = props.storage.dataBucket(this, 'ModelBucket', {
      logPrefix: 'model-bucket/',
      removalPolicy: props.removalPolicy,
      lifecycleRules: [{ id: 'model-artefact-retention', expiration: Duration.days(MODEL_ARTEFACT_DAYS), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    this.modelFunction = new HouseFunction(this, 'ModelFunction', {
      handler: 'model',
      description: 'Nightly: fits the behaviour archetypes, sequences and outcome model over the feature rows; artefacts in the model bucket',
      logRetention: props.logRetention,
      // A whole vCPU (1,769 MB): the fits are CPU-bound, and 100,000 users take under a minute of one core (bench/model-run.ts).
      memorySize: 1769,
      timeout: Duration.minutes(15),
      environment: { K_ANONYMITY: String(props.kAnonymity) },
      ...props.placement,
    })
      .bind(props.database)
      .bindBucket(this.bucket, 'MODEL_BUCKET', MODEL_PREFIX)
      .acknowledge('HIPAA.Security-LambdaDLQ', SCHEDULED_RUN_NEEDS_NO_DLQ);

    this.schedule = new events.Rule(this, 'ModelSchedule', {
      description: 'Runs the behaviour models nightly',
      schedule: events.Schedule.cron({ minute: '0', hour: String(MODEL_RUN_HOUR_UTC) }),
      // A failed night is tried twice more; past that, the next night's run fits from the same rows.
      targets: [new targets.LambdaFunction(this.modelFunction, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });
  }
}
