import { Match } from 'aws-cdk-lib/assertions';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

describe('HTTP API', () => {
  const { template } = synthStack({ throttleRateLimit: 50, throttleBurstLimit: 80 });
  const authorizer = () => logicalIdOf(template, 'AWS::ApiGatewayV2::Authorizer', 'ApiHttpApiJwtAuthorizer');

  it.each(['POST /v1/events', 'GET /v1/metrics', 'GET /v1/metrics/{metric}'])('guards %s with the JWT authorizer', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: routeKey,
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: authorizer() },
    });
  });

  it('serves /openapi.json without authorisation', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /openapi.json',
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
    });
  });

  it('routes events to ingest, and the catalogue, metrics and the document to query', () => {
    const integrationFor = (routeKey: string): string => {
      const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }))[0]!;
      const target = route.Properties.Target['Fn::Join'][1][1].Ref as string;
      return template.toJSON().Resources[target].Properties.IntegrationUri['Fn::GetAtt'][0];
    };
    expect(integrationFor('POST /v1/events')).toBe(lambdaNamed(template, HOUSE_FUNCTIONS.ingest).id);
    expect(integrationFor('GET /v1/metrics')).toBe(lambdaNamed(template, HOUSE_FUNCTIONS.query).id);
    expect(integrationFor('GET /v1/metrics/{metric}')).toBe(lambdaNamed(template, HOUSE_FUNCTIONS.query).id);
    expect(integrationFor('GET /openapi.json')).toBe(lambdaNamed(template, HOUSE_FUNCTIONS.query).id);
  });

  it('validates tokens from the Cognito user pool it creates when no issuer is configured: its API client\'s and the web app\'s', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: Match.stringLikeRegexp('^ApiUserPoolApiClient') }, { Ref: Match.stringLikeRegexp('^WebAppSignInClient') }],
        Issuer: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('https://cognito-idp\\.'), { Ref: Match.stringLikeRegexp('^ApiUserPool') }])] },
      },
    });
  });

  it("gives the user pool a group per role, which is how a user's token names their role", () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map((g) => g.Properties);
    expect(groups.map((g) => g.GroupName).sort()).toEqual(['admin', 'analyst', 'clinician', 'ingest']);
    for (const group of groups) expect(group.UserPoolId).toEqual({ Ref: logicalIdOf(template, 'AWS::Cognito::UserPool', 'ApiUserPool') });
  });

  it('uses jwtIssuer and jwtAudience from context instead of Cognito', () => {
    const { template: t } = synthStack({ jwtIssuer: 'https://id.example.com/', jwtAudience: 'analytics-api, dashboard' });
    t.resourceCountIs('AWS::Cognito::UserPool', 0);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://id.example.com/', Audience: ['analytics-api', 'dashboard'] },
    });
  });

  it('throttles the default route and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('requestId'),
      },
    });
  });

  it('keeps IP addresses out of the access log', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/sourceIp|userAgent/);
  });
});

describe('network', () => {
  const { template } = synthStack();

  it('has two isolated subnets and no route to the internet', () => {
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  });

  it.each(['kinesis-streams', 'secretsmanager', 'kms', 'logs', 'sns', 'sqs'])('has a private interface endpoint for %s', (service) => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
    });
  });

  it.each(['s3', 'dynamodb'])('has a gateway endpoint for %s', (service) => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
    });
  });

  it.each(['aggregate', 'rollUp', 'purge', 'query', 'migrate'] as const)('runs %s in the isolated subnets with the function security group', (name) => {
    expect(lambdaNamed(template, HOUSE_FUNCTIONS[name]).resource.Properties.VpcConfig).toEqual({
      SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^NetworkFunctionSecurityGroup/), 'GroupId'] }],
      SubnetIds: [{ Ref: expect.stringMatching(/^NetworkVpcisolatedSubnet1/) }, { Ref: expect.stringMatching(/^NetworkVpcisolatedSubnet2/) }],
    });
  });

  it('keeps ingest out of the VPC', () => {
    expect(lambdaNamed(template, HOUSE_FUNCTIONS.ingest).resource.Properties.VpcConfig).toBeUndefined();
  });

  it('admits the function security group to the proxy and the cache', () => {
    const fnSg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkFunctionSecurityGroup'), 'GroupId'] };
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseProxySecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: fnSg,
      FromPort: 5432,
      ToPort: 5432,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: fnSg,
      FromPort: 6379,
      ToPort: 6380,
    });
  });
});

describe('function configuration in AWS', () => {
  const { template } = synthStack({ kAnonymity: 25, privacyBudgetEpsilon: '4.5', privacyBudgetDelta: 0.000001 });
  const env = (name: keyof typeof HOUSE_FUNCTIONS) => lambdaNamed(template, HOUSE_FUNCTIONS[name]).resource.Properties.Environment.Variables;
  const database = {
    DATABASE_SECRET_ARN: { Ref: expect.stringMatching(/^DatabaseClusterSecretAttachment/) },
    DATABASE_HOST: { 'Fn::GetAtt': [expect.stringMatching(/^DatabaseClusterProxy/), 'Endpoint'] },
    DATABASE_NAME: 'analytics',
  };

  it('gives ingest the stream and the pepper secret', () => {
    expect(env('ingest')).toMatchObject({
      STREAM_NAME: { Ref: expect.stringMatching(/^IngestionStream/) },
      PEPPER_SECRET_ARN: { Ref: expect.stringMatching(/^StoragePepperSecret/) },
    });
  });

  it('gives aggregate the proxy, the credentials secret and a TLS Redis URL', () => {
    expect(env('aggregate')).toMatchObject({
      ...database,
      REDIS_URL: { 'Fn::Join': ['', ['rediss://', { 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'Endpoint.Address'] }, ':', expect.anything()]] },
    });
    expect(env('aggregate').DATABASE_URL).toBeUndefined();
  });

  it('gives query the database, the k-anonymity threshold and the privacy budget from context', () => {
    expect(env('query')).toMatchObject({ ...database, K_ANONYMITY: '25', PRIVACY_BUDGET_EPSILON: '4.5', PRIVACY_BUDGET_DELTA: '0.000001' });
  });

  it('gives migrate and the roll-up the database, and the roll-up the k it decides packed days for', () => {
    expect(env('migrate')).toMatchObject(database);
    expect(env('rollUp')).toMatchObject({ ...database, K_ANONYMITY: '25' });
    expect(env('purge')).toMatchObject(database);
  });

  it('lets database functions read the credentials secret and ingest read the pepper', () => {
    const roleOf = (name: keyof typeof HOUSE_FUNCTIONS) =>
      lambdaNamed(template, HOUSE_FUNCTIONS[name]).resource.Properties.Role['Fn::GetAtt'][0] as string;
    const readsSecret = (role: string, secret: RegExp) =>
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: role }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Resource: { Ref: Match.stringLikeRegexp(secret.source) },
            }),
          ]),
        },
      });
    for (const name of ['aggregate', 'rollUp', 'purge', 'query', 'migrate'] as const) readsSecret(roleOf(name), /^DatabaseClusterSecretAttachment/);
    readsSecret(roleOf('ingest'), /^StoragePepperSecret/);
  });
});
