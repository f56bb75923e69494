import { CfnOutput } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeFinding } from './nag';

export interface FunctionUrlsProps {
  readonly ingestFunction: lambda.Function;
  readonly queryFunction: lambda.Function;
  readonly privacyFunction: lambda.Function;
  /** HS256 secret the handlers verify bearer tokens with, in place of API Gateway's authorizer. */
  readonly jwtSecret: string;
}

/**
 * The API's stand-in where API Gateway v2 is missing (LocalStack community). Without a JWT
 * authorizer in front, the handlers route by path and verify HS256 tokens themselves: local use
 * only.
 */
export class FunctionUrls extends Construct {
  readonly ingestUrl: lambda.FunctionUrl;
  readonly queryUrl: lambda.FunctionUrl;
  readonly privacyUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: FunctionUrlsProps) {
    super(scope, id);
    for (const fn of [props.ingestFunction, props.queryFunction, props.privacyFunction]) fn.addEnvironment('FUNCTION_URL_JWT_SECRET', props.jwtSecret);
    this.ingestUrl = props.ingestFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    this.queryUrl = props.queryFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    this.privacyUrl = props.privacyFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    // addFunctionUrl grants lambda:InvokeFunctionUrl and lambda:InvokeFunction to everyone.
    for (const fn of [props.ingestFunction, props.queryFunction, props.privacyFunction]) {
      for (const permission of ['invoke-function-url', 'invoke-function']) {
        acknowledgeFinding(
          fn.node.findChild(permission),
          'HIPAA.Security-LambdaFunctionPublicAccessProhibited',
          'LocalStack target only (never deployed to AWS): the function URL stands in for the HTTP API that LocalStack community lacks, and the handler verifies an HS256 bearer token on every route but the OpenAPI document.',
        );
      }
    }
    new CfnOutput(this, 'IngestUrl', { value: this.ingestUrl.url, description: 'POST /v1/events' });
    new CfnOutput(this, 'QueryUrl', { value: this.queryUrl.url, description: 'GET /v1/metrics/{metric}, POST /v1/research/exports, GET /v1/privacy/budget, GET /openapi.json' });
    new CfnOutput(this, 'PrivacyUrl', { value: this.privacyUrl.url, description: 'PUT /v1/consent/{userId}, DELETE /v1/users/{userId}/data, GET /v1/audit' });
  }
}
