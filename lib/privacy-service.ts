import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionBinding, type FunctionPlacement, ApiFunction } from './house-function';
import type { Storage } from './storage';

export interface PrivacyServiceProps {
  readonly database: FunctionBinding;
  readonly cache: FunctionBinding;
  readonly storage: Storage;
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The data subject's and the auditor's side of the API (consent, erasure, audit trail), in a
 * function of its own: the only one that may write the consent registry, and the only reader of
 * the pepper besides ingest.
 */
export class PrivacyService extends Construct {
  readonly privacyFunction: ApiFunction;

  constructor(scope: Construct, id: string, props: PrivacyServiceProps) {
    super(scope, id);
    this.privacyFunction = new ApiFunction(this, 'PrivacyFunction', {
      handler: 'privacy',
      description: 'PUT /v1/consent/{userId}, DELETE /v1/users/{userId}/data, GET /v1/audit',
      logRetention: props.logRetention,
      ...props.placement,
    })
      .bind(props.database)
      .bind(props.cache)
      .bindSecret(props.storage.pepperSecret, 'PEPPER_SECRET_ARN')
      .bindTable(props.storage.consentTable, 'CONSENT_TABLE_NAME', 'keep')
      // Erasure deletes the user's record key (crypto-shredding of their stream records).
      .bindTable(props.storage.recordKeyTable, 'RECORD_KEY_TABLE_NAME', 'erase');
  }
}
