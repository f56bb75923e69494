import type { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * The house customer-managed key: one per concern (so a key's policy and audit trail speak of
 * one kind of data), always rotating, with the stack's removal policy. Created as `<scope>/Key`.
 */
export function customerManagedKey(scope: Construct, description: string, removalPolicy: RemovalPolicy): kms.Key {
  return new kms.Key(scope, 'Key', { description, enableKeyRotation: true, removalPolicy });
}
