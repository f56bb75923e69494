import { CfnOutput } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ROUTES, type RouteHandler, type RouteKey } from '../functions/handlers/http/roles';
import { capitalised } from './api';
import { givenSecret } from './external-stores';
import { acknowledgeFinding } from './nag';

export interface FunctionUrlsProps {
  /** The function behind each handler name of the route table. */
  readonly handlers: Readonly<Record<RouteHandler, lambda.Function>>;
  /** HS256 key the handlers verify bearer tokens with, in place of API Gateway's authorizer. */
  readonly jwtSecret: string;
  readonly encryptionKey: kms.IKey;
}

/**
 * The API's stand-in where API Gateway v2 is missing (LocalStack community). Without a JWT
 * authorizer in front, the handlers route by path and verify HS256 tokens themselves: local use
 * only.
 */
export class FunctionUrls extends Construct {
  readonly urls: Readonly<Record<RouteHandler, lambda.FunctionUrl>>;
  /** Holds the token key (`npm run token -- --secret` signs with the same value). */
  readonly tokenSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: FunctionUrlsProps) {
    super(scope, id);
    this.tokenSecret = givenSecret(this, 'TokenSecret', { description: 'HS256 key of the LocalStack function URLs\' bearer tokens', value: props.jwtSecret, encryptionKey: props.encryptionKey });
    const urls: Partial<Record<RouteHandler, lambda.FunctionUrl>> = {};
    for (const [name, fn] of Object.entries(props.handlers) as [RouteHandler, lambda.Function][]) {
      fn.addEnvironment('FUNCTION_URL_JWT_SECRET_ARN', this.tokenSecret.secretArn);
      this.tokenSecret.grantRead(fn);
      const url = (urls[name] = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE }));
      // addFunctionUrl grants lambda:InvokeFunctionUrl and lambda:InvokeFunction to everyone.
      for (const permission of ['invoke-function-url', 'invoke-function']) {
        acknowledgeFinding(
          fn.node.findChild(permission),
          'HIPAA.Security-LambdaFunctionPublicAccessProhibited',
          'LocalStack target only (never deployed to AWS): the function URL stands in for the HTTP API that LocalStack community lacks, and the handler verifies an HS256 bearer token on every route but the OpenAPI document.',
        );
      }
      const routes = (Object.keys(ROUTES) as RouteKey[]).filter((route) => ROUTES[route].handler === name);
      new CfnOutput(this, `${capitalised(name)}Url`, { value: url.url, description: routes.join(', ') });
    }
    this.urls = urls as Record<RouteHandler, lambda.FunctionUrl>;
  }
}
