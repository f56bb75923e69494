import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionBinding, type FunctionPlacement, ApiFunction } from './house-function';
import type { Storage } from './storage';

export interface QueryServiceProps {
  readonly database: FunctionBinding;
  readonly storage: Storage;
  readonly kAnonymity: number;
  /** Days hour rollups are kept: local calendars are summed from them. */
  readonly hourRollupRetentionDays: number;
  /** Days minute rollups are kept: no dashboard widget reaches back further at minute buckets. */
  readonly minuteRollupRetentionDays: number;
  readonly privacyBudget: { readonly epsilon: number; readonly delta: number };
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
}

/** The read side of the API: metrics, research exports, the privacy budget and the OpenAPI document. */
export class QueryService extends Construct {
  readonly queryFunction: ApiFunction;

  constructor(scope: Construct, id: string, props: QueryServiceProps) {
    super(scope, id);
    this.queryFunction = new ApiFunction(this, 'QueryFunction', {
      handler: 'query',
      description: 'GET /v1/metrics, GET /v1/metrics/{metric}, POST /v1/research/exports, GET /v1/privacy/budget, GET /openapi.json',
      logRetention: props.logRetention,
      memorySize: 1024,
      ...props.placement,
      environment: {
        K_ANONYMITY: String(props.kAnonymity),
        RETENTION_HOUR_ROLLUP_DAYS: String(props.hourRollupRetentionDays),
        RETENTION_MINUTE_ROLLUP_DAYS: String(props.minuteRollupRetentionDays),
        PRIVACY_BUDGET_EPSILON: String(props.privacyBudget.epsilon),
        PRIVACY_BUDGET_DELTA: String(props.privacyBudget.delta),
      },
    })
      .bind(props.database)
      .bindBucket(props.storage.reportBucket, 'REPORT_BUCKET', 'reports/', 'read');
  }
}
