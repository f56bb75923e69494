import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { customerManagedKey } from './keys';
import { acknowledgeFinding } from './nag';

export interface StorageProps {
  readonly reportRetentionDays: number;
  /** Local stacks are thrown away; AWS stacks keep their data when deleted. */
  readonly removalPolicy: RemovalPolicy;
}

// Infrequent Access bills 30 days minimum, so moving objects earlier would cost more, not less.
const INFREQUENT_ACCESS_AFTER_DAYS = 30;
// Who read which report is audit evidence: HIPAA keeps such documentation for six years.
const ACCESS_LOG_RETENTION_DAYS = 6 * 366;

const NO_REPLICATION =
  'Single-region by design: the data stays in the deployment region (data residency of health-derived data); versioning, the retention lifecycle and RETAIN on stack removal protect against loss, and a second region would be a decision of the data controller.';

/** The key-value stores read on the ingest path, the report bucket and the pseudonym pepper. */
export class Storage extends Construct {
  readonly key: kms.Key;
  /** pk `subject`: the pseudonymous user id, so consent lookups never need the raw id. */
  readonly consentTable: dynamodb.Table;
  /**
   * pk `id`: per-user keys that seal stream records (`subject#<pseudonym>` and `key#<key id>`,
   * functions/adapters/aws/dynamo-record-keys.ts). Erasure deletes a user's key, which erases their
   * records in Kinesis and the dead-letter queues, which cannot delete them (crypto-shredding).
   */
  readonly recordKeyTable: dynamodb.Table;
  readonly reportBucket: s3.Bucket;
  /** S3 server access logs of the report bucket: who read or wrote which report, and when. */
  readonly accessLogBucket: s3.Bucket;
  /** HMAC key for pseudonymisation: generated, never seen by a person, rotatable. */
  readonly pepperSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    // Log delivery by bucket policy (scoped to the report bucket), not by the legacy
    // LogDeliveryWrite ACL, which object ownership BUCKET_OWNER_ENFORCED turns off. Set here, not
    // only in cdk.json, so the stack tests build the same bucket as `cdk synth`.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    this.key = customerManagedKey(this, 'Consent and record-key tables, report bucket, pseudonym pepper', props.removalPolicy);

    const tableDefaults = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    } as const;

    this.consentTable = new dynamodb.Table(this, 'ConsentTable', {
      ...tableDefaults,
      partitionKey: { name: 'subject', type: dynamodb.AttributeType.STRING },
      // Consent is a legal record: an accidental `cdk destroy` must not be able to drop it.
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
    });

    this.recordKeyTable = new dynamodb.Table(this, 'RecordKeyTable', {
      ...tableDefaults,
      // No continuous backups: a restored deleted key would bring an erased user's records back.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false },
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      // S3 log delivery writes only to buckets encrypted with S3-managed keys.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      lifecycleRules: [
        {
          id: 'access-log-retention',
          expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS),
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    const retention = props.reportRetentionDays;
    this.reportBucket = this.dataBucket(this, 'ReportBucket', {
      logPrefix: 'report-bucket/',
      removalPolicy: props.removalPolicy,
      lifecycleRules: [
        {
          id: 'report-retention',
          transitions:
            retention > INFREQUENT_ACCESS_AFTER_DAYS * 2
              ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(INFREQUENT_ACCESS_AFTER_DAYS) }]
              : [],
          expiration: Duration.days(retention),
          // Versioning protects against overwrite, not against keeping data past its retention.
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    this.pepperSecret = new secretsmanager.Secret(this, 'PepperSecret', {
      description: 'Pepper for HMAC-SHA256 pseudonymisation of user ids',
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      // Losing the pepper would make every stored pseudonym unlinkable to new events.
      removalPolicy: props.removalPolicy,
    });

    this.acknowledgeFindings();
  }

  /**
   * A bucket of the product's data (reports, history files): private, versioned, under the
   * storage key, its access logged to the access-log bucket under `logPrefix`, single-region.
   */
  dataBucket(scope: Construct, id: string, props: { logPrefix: string; removalPolicy: RemovalPolicy; lifecycleRules: s3.LifecycleRule[] }): s3.Bucket {
    const bucket = new s3.Bucket(scope, id, {
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: props.logPrefix,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket instead of per object: far fewer KMS calls for batches of objects.
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      lifecycleRules: props.lifecycleRules,
    });
    acknowledgeFinding(bucket.node.defaultChild!, 'HIPAA.Security-S3BucketReplicationEnabled', NO_REPLICATION);
    return bucket;
  }

  private acknowledgeFindings(): void {
    acknowledgeFinding(this.accessLogBucket.node.defaultChild!, 'HIPAA.Security-S3BucketReplicationEnabled', NO_REPLICATION);
    for (const id of ['AwsSolutions-S1', 'HIPAA.Security-S3BucketLoggingEnabled']) {
      acknowledgeFinding(
        this.accessLogBucket.node.defaultChild!,
        id,
        'This is the access-log bucket: logging it into itself would loop, and into another bucket would only move the question. Writes come from the S3 log delivery service alone (bucket policy).',
      );
    }
    acknowledgeFinding(
      this.accessLogBucket.node.defaultChild!,
      'HIPAA.Security-S3DefaultEncryptionKMS',
      'S3 server access log delivery supports only SSE-S3 on the destination bucket; the logs hold request metadata (keys, times, principals), not report contents.',
    );
    acknowledgeFinding(
      this.consentTable.node.defaultChild!,
      'HIPAA.Security-DynamoDBInBackupPlan',
      'Point-in-time recovery is on (35 days of continuous backups, encrypted with the storage key); an AWS Backup plan would duplicate it for a small legal record kept with deletion protection.',
    );
    for (const id of ['AwsSolutions-DDB3', 'HIPAA.Security-DynamoDBPITREnabled', 'HIPAA.Security-DynamoDBInBackupPlan']) {
      acknowledgeFinding(
        this.recordKeyTable.node.defaultChild!,
        id,
        "Erasure deletes a user's record key so their records in Kinesis and the dead-letter queues can never be read again; a backup would keep deleted keys for its retention and undo that. Losing the table loses at most the records not yet consumed (24 hours of stream retention), which a backup of keys alone could not replay anyway.",
      );
    }
    for (const id of ['AwsSolutions-SMG4', 'HIPAA.Security-SecretsManagerRotationEnabled']) {
      acknowledgeFinding(
        this.pepperSecret.node.defaultChild!,
        id,
        'The pepper keys the pseudonyms: every stored pseudonym (consent records, rollups) is an HMAC under it, so an automatic rotation would silently unlink all of them. Rotating it is a planned re-keying of the stored pseudonyms, not a schedule.',
      );
    }
  }
}
