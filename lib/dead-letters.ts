import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { customerManagedKey } from './keys';
import { acknowledgeFinding } from './nag';

/**
 * The on-failure destination of a Kinesis event source mapping: a queue under a key of its own,
 * created on `scope` as `DeadLetterQueue` (so each consumer's construct ids stay what they were).
 * It holds only pointers to failed batches (shard, sequence range), not the events; they are
 * still encrypted with our key so no AWS-owned key ever touches stream metadata.
 */
export function encryptedDeadLetterQueue(scope: Construct, keyDescription: string, removalPolicy: RemovalPolicy): { key: kms.Key; queue: sqs.Queue } {
  const key = customerManagedKey(scope, keyDescription, removalPolicy);
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy,
  });
  acknowledgeFinding(
    queue.node.defaultChild!,
    'AwsSolutions-SQS3',
    'This queue is the dead-letter destination itself (on-failure destination of the Kinesis event source mapping, which the rule does not recognise as a DLQ); its messages are replayed by hand and an alarm fires on the first one.',
  );
  return { key, queue };
}

/**
 * Grants only what sending to a queue encrypted with a customer-managed key takes (sqs:SendMessage,
 * kms:GenerateDataKey and kms:Decrypt). SqsDlq grants GetQueueAttributes, GetQueueUrl, Encrypt and
 * ReEncrypt* on top.
 */
export class EncryptedQueueDestination implements lambda.IEventSourceDlq {
  constructor(private readonly queue: sqs.Queue) {}

  bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    this.queue.grant(targetHandler, 'sqs:SendMessage');
    this.queue.encryptionMasterKey?.grant(targetHandler, 'kms:GenerateDataKey', 'kms:Decrypt');
    return { destination: this.queue.queueArn };
  }
}
