import { Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionBinding, type FunctionPlacement, HouseFunction } from './house-function';
import type { Storage } from './storage';

export interface QueryServiceProps {
  readonly database: FunctionBinding;
  readonly storage: Storage;
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
      .acknowledge(
        'HIPAA.Security-LambdaDLQ',
        'Invoked synchronously (API Gateway, or the function URL on LocalStack): a failure is an error response to the caller; a DLQ only receives asynchronous invocations.',
      )
      .acknowledge(
        'HIPAA.Security-LambdaConcurrency',
        "Concurrency is bounded in front of the function by the API stage's throttle (rate and burst from settings); reserving concurrency would also take it from the account pool and fail deployment in accounts with a low limit.",
      );
  }
}
