import { CfnOutput, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROLES, ROUTES, type RouteHandler } from '../functions/handlers/http/roles';
import { logsKey } from './keys';
import { acknowledgeFinding } from './nag';

export interface ApiProps {
  /** The function behind each handler name of the route table. */
  readonly handlers: Readonly<Record<RouteHandler, lambda.IFunction>>;
  /** An external identity provider; when absent a Cognito user pool is created for the API. */
  readonly jwt?: { readonly issuer: string; readonly audience: readonly string[] };
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The public HTTP API: JWT on every route except the OpenAPI document. */
export class Api extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly authorizer: HttpJwtAuthorizer;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  /** The issuer whose tokens the authorizer accepts: the user pool's, or the external one. */
  readonly issuer: string;
  /** The clients (`aud`, or `client_id` of an access token) whose tokens the authorizer accepts. */
  private readonly audience: string[];

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    if (props.jwt) {
      this.issuer = props.jwt.issuer;
      this.audience = [...props.jwt.audience];
    } else {
      this.userPool = new cognito.UserPool(this, 'UserPool', {
        // Accounts are provisioned by administrators: a public sign-up would hand out tokens.
        selfSignUpEnabled: false,
        signInAliases: { username: true },
        mfa: cognito.Mfa.REQUIRED,
        mfaSecondFactor: { sms: false, otp: true },
        // Cognito treats an unset requirement as off, not on: spell each one out.
        passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
        featurePlan: cognito.FeaturePlan.ESSENTIALS,
        removalPolicy: props.removalPolicy,
      });
      acknowledgeFinding(
        this.userPool.node.defaultChild!,
        'AwsSolutions-COG8',
        'Essentials tier: accounts are created by administrators only (no self sign-up), TOTP MFA is required for every user and passwords are long; the Plus tier adds risk-based sign-in checks whose cost is a product decision, open in the privacy issue.',
      );
      // A user's role is the group they are in (roleFromClaims reads cognito:groups).
      for (const role of ROLES) {
        new cognito.CfnUserPoolGroup(this, `${capitalised(role)}Group`, { userPoolId: this.userPool.userPoolId, groupName: role, description: `The API's ${role} role` });
      }
      this.userPoolClient = this.userPool.addClient('ApiClient', {
        authFlows: { userSrp: true },
        generateSecret: false,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        preventUserExistenceErrors: true,
      });
      this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
      this.audience = [this.userPoolClient.userPoolClientId];
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    }

    // Lazy: clients added after the routes (the web app's, which needs the distribution's address
    // first) are still in the audience the authorizer is deployed with.
    this.authorizer = new HttpJwtAuthorizer('JwtAuthorizer', this.issuer, { jwtAudience: Lazy.list({ produce: () => this.audience }) });

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Therapeutic analytics API v1',
      // The stage is created below, because only an explicit stage takes throttling and logs.
      createDefaultStage: false,
      defaultAuthorizer: this.authorizer,
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      encryptionKey: logsKey(this),
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      // No IP address and no user agent: both are PII under the product's rules.
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            routeKey: '$context.routeKey',
            status: apigw.AccessLogField.contextStatus(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    // Routes come from the same table the handlers authorise by, so the two cannot drift. Public
    // routes (the OpenAPI contract, which clients need before they hold a token) skip the JWT check.
    const integrations = Object.fromEntries(
      Object.entries(props.handlers).map(([name, fn]) => [name, new HttpLambdaIntegration(`${capitalised(name)}Integration`, fn)]),
    ) as Record<RouteHandler, HttpLambdaIntegration>;
    for (const [routeKey, route] of Object.entries(ROUTES)) {
      const [method, path] = routeKey.split(' ') as [keyof typeof apigwv2.HttpMethod, string];
      const routes = this.httpApi.addRoutes({
        path,
        methods: [apigwv2.HttpMethod[method]],
        integration: integrations[route.handler],
        ...(route.roles === 'public' ? { authorizer: new apigwv2.HttpNoneAuthorizer() } : {}),
      });
      if (route.roles === 'public') {
        for (const r of routes) {
          acknowledgeFinding(
            r.node.defaultChild!,
            'AwsSolutions-APIG4',
            `${routeKey} is public by the route table (functions/handlers/http/roles.ts): it serves the API contract, which a client needs before it holds a token, and reads no data.`,
          );
        }
      }
    }

    new CfnOutput(this, 'ApiUrl', { value: this.stage.url });
  }

  /** The accepted audience as one comma-separated value, with every client added before synthesis (for a function that checks tokens itself). */
  audienceList(): string {
    return Lazy.string({ produce: () => this.audience.join(',') });
  }

  /** Accepts the tokens the user pool issues to another of its clients. */
  acceptTokensOf(client: cognito.IUserPoolClient): void {
    this.audience.push(client.userPoolClientId);
  }
}

export const capitalised = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);
