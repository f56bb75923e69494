import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { customerManagedKey } from './keys';

export interface StorageProps {
  readonly reportRetentionDays: number;
  /** Local stacks are thrown away; AWS stacks keep their data when deleted. */
  readonly removalPolicy: RemovalPolicy;
}

// Infrequent Access bills 30 days minimum, so moving objects earlier would cost more, not less.
const INFREQUENT_ACCESS_AFTER_DAYS = 30;

/** The key-value stores read on the ingest path, the report bucket and the pseudonym pepper. */
export class Storage extends Construct {
  readonly key: kms.Key;
  /** pk `subject`: the pseudonymous user id, so consent lookups never need the raw id. */
  readonly consentTable: dynamodb.Table;
  /** pk `eventId`; rows expire through `expiresAt` once a retry can no longer arrive. */
  readonly idempotencyTable: dynamodb.Table;
  readonly reportBucket: s3.Bucket;
  /** HMAC key for pseudonymisation: generated, never seen by a person, rotatable. */
  readonly pepperSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    this.key = customerManagedKey(this, 'Consent and idempotency tables, report bucket, pseudonym pepper', props.removalPolicy);

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

    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      ...tableDefaults,
      partitionKey: { name: 'eventId', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
    });

    const retention = props.reportRetentionDays;
    this.reportBucket = new s3.Bucket(this, 'ReportBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket instead of per object: far fewer KMS calls for report batches.
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: false,
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
  }
}
