import type { RemovalPolicy } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ApiFunction } from './house-function';
import type { Storage } from './storage';
import { customerManagedKey } from './keys';
import { acknowledgeFinding } from './nag';

export interface IngestionProps {
  readonly storage: Storage;
  /** 0 selects on-demand capacity; otherwise that many provisioned shards. */
  readonly shardCount: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The event stream and the function that validates, pseudonymises and writes to it. */
export class Ingestion extends Construct {
  readonly key: kms.Key;
  readonly stream: kinesis.Stream;
  readonly ingestFunction: ApiFunction;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);

    this.key = customerManagedKey(this, 'Event stream (pseudonymised events at rest)', props.removalPolicy);
    const provisioned = props.shardCount > 0;
    this.stream = new kinesis.Stream(this, 'Stream', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: provisioned ? props.shardCount : undefined,
      removalPolicy: props.removalPolicy,
    });

    this.ingestFunction = new ApiFunction(this, 'IngestFunction', {
      handler: 'ingest',
      description: 'POST /v1/events: validate, check consent, pseudonymise, put to Kinesis',
      logRetention: props.logRetention,
      memorySize: 1024,
      outsideVpcReason:
        'Ingest talks only to Kinesis, DynamoDB and Secrets Manager, public IAM-authenticated TLS APIs, and holds nothing a VPC would protect. Outside the VPC the public write path does not depend on interface endpoints (a failed endpoint or AZ would drop events) and costs no ENI capacity as it scales with traffic.',
    })
      .bindStream(this.stream, 'write')
      .bindSecret(props.storage.pepperSecret, 'PEPPER_SECRET_ARN')
      .bindTable(props.storage.consentTable, 'CONSENT_TABLE_NAME', 'lookup')
      // Makes a user's record key on their first event; never deletes one.
      .bindTable(props.storage.recordKeyTable, 'RECORD_KEY_TABLE_NAME', 'create');

    acknowledgeFinding(
      this.stream.node.defaultChild!,
      'AwsSolutions-KDS3',
      'The privacy issue requires customer-managed keys for stream data: the key policy and its CloudTrail record cover pseudonymised events only. aws/kinesis would allow neither.',
    );
  }
}
