import { Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';

export interface QueryServiceProps {
  readonly database: FunctionBinding;
  readonly kAnonymity: number;
  readonly placement?: FunctionPlacement;
  readonly logRetention: logs.RetentionDays;
}

/** The read side of the API: metrics and the OpenAPI document, served by one function. */
export class QueryService extends Construct {
  readonly queryFunction: HouseFunction;

  constructor(scope: Construct, id: string, props: QueryServiceProps) {
    super(scope, id);
    this.queryFunction = new HouseFunction(this, 'QueryFunction', {
      handler: 'query',
      description: 'GET /v1/metrics/{metric}, GET /openapi.json',
      logRetention: props.logRetention,
      memorySize: 1024,
      // API Gateway gives up at 30 s; finish (or fail) before it does.
      timeout: Duration.seconds(29),
      ...props.placement,
      environment: { K_ANONYMITY: String(props.kAnonymity) },
    })
      .bind(props.database)
      .servesApi();
  }
}
