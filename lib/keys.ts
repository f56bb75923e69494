import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * The house customer-managed key: one per concern (so a key's policy and audit trail speak of
 * one kind of data), always rotating, with the stack's removal policy. Created as `<scope>/Key`.
 */
export function customerManagedKey(scope: Construct, description: string, removalPolicy: RemovalPolicy): kms.Key {
  return new kms.Key(scope, 'Key', { description, enableKeyRotation: true, removalPolicy });
}

const LOGS_KEY_ID = 'LogsKey';

/**
 * The stack's one key for CloudWatch Logs (function logs, access logs, flow logs): log lines can
 * carry pseudonyms and request metadata, so they are encrypted with a key we control like the
 * data they describe. Created once per stack as `<stack>/LogsKey`, on first use.
 */
export function logsKey(scope: Construct): kms.Key {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(LOGS_KEY_ID);
  if (existing) return existing as kms.Key;
  const key = new kms.Key(stack, LOGS_KEY_ID, {
    description: 'CloudWatch Logs groups of the stack',
    enableKeyRotation: true,
    // Log groups are retained as audit evidence; their key must outlive the stack with them.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // CloudWatch Logs encrypts with the key itself, and only for log groups of this account and region.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
      },
    }),
  );
  return key;
}
