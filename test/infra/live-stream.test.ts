import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { AWS_ONLY_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

type Json = any;

const resourcesOf = (template: Template, type: string): [string, Json][] => Object.entries(template.findResources(type));

describe('GET /v1/live in AWS', () => {
  const { template } = synthStack();
  const live = lambdaNamed(template, AWS_ONLY_FUNCTIONS.live);
  const jwks = lambdaNamed(template, AWS_ONLY_FUNCTIONS.jwks);
  const secret = logicalIdOf(template, 'AWS::SecretsManager::Secret', 'LiveStreamJwks');
  const distribution = logicalIdOf(template, 'AWS::CloudFront::Distribution', 'WebAppDistribution');
  const distributionConfig = template.toJSON().Resources[distribution].Properties.DistributionConfig;

  describe('its function', () => {
    it('streams through a function URL that only an IAM-signed caller may invoke', () => {
      template.resourceCountIs('AWS::Lambda::Url', 1);
      template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM', TargetFunctionArn: { 'Fn::GetAtt': [live.id, 'Arn'] } });
    });

    it('runs in the isolated subnets beside the cache, with its URL, and outlives its 10-minute streams', () => {
      const { Properties: properties } = live.resource;
      expect(properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
      expect(properties.Timeout).toBe(900);
      const cache = logicalIdOf(template, 'AWS::ElastiCache::ServerlessCache', 'Cache');
      expect(JSON.stringify(properties.Environment.Variables.REDIS_URL)).toContain(`"${cache}","Endpoint.Address"`);
      const functionGroup = properties.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0] as string;
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, ToPort: 6380, SourceSecurityGroupId: { 'Fn::GetAtt': [functionGroup, 'GroupId'] } });
    });

    it("checks tokens of the API's user pool against the mirrored keys, and gets k", () => {
      const variables = live.resource.Properties.Environment.Variables;
      expect(variables).toMatchObject({ K_ANONYMITY: '10', USER_POOL_ID: { Ref: logicalIdOf(template, 'AWS::Cognito::UserPool', 'ApiUserPool') }, JWKS_SECRET_ARN: { Ref: secret } });
      expect(variables).not.toHaveProperty('JWT_ISSUER');
    });
  });

  describe('the key mirror', () => {
    it("runs outside the VPC, with the API's issuer and every client the API accepts, the web app's sign-in client too", () => {
      const { Properties: properties } = jwks.resource;
      expect(properties.VpcConfig).toBeUndefined();
      const variables = properties.Environment.Variables;
      expect(variables.JWKS_SECRET_ARN).toEqual({ Ref: secret });
      expect(JSON.stringify(variables.JWT_ISSUER)).toContain('cognito-idp.');
      const audience = JSON.stringify(variables.JWT_AUDIENCE);
      expect(audience).toContain(logicalIdOf(template, 'AWS::Cognito::UserPoolClient', 'ApiUserPoolApiClient'));
      expect(audience).toContain(logicalIdOf(template, 'AWS::Cognito::UserPoolClient', 'WebAppSignInClient'));
    });

    it('runs hourly and at each deploy, before the live function can be asked for a stream', () => {
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [jwks.id, 'Arn'] } })] });
      template.hasResourceProperties('Custom::JwksMirror', { ServiceToken: { 'Fn::GetAtt': [jwks.id, 'Arn'] } });
    });
  });

  describe('its CloudFront behaviour', () => {
    const behaviours = distributionConfig.CacheBehaviors as Json[];
    const behaviour = behaviours.find((b) => b.PathPattern === '/v1/live');
    const origin = (distributionConfig.Origins as Json[]).find((o) => o.Id === behaviour?.TargetOriginId);

    it('comes before the API\'s /v1/*, which would otherwise take the path to the buffering HTTP API', () => {
      expect(behaviours.map((b) => b.PathPattern).indexOf('/v1/live')).toBeLessThan(behaviours.map((b) => b.PathPattern).indexOf('/v1/*'));
    });

    it('caches nothing, forwards every viewer header but Host (x-bearer-token with them), and keeps the security headers', () => {
      const api = behaviours.find((b) => b.PathPattern === '/v1/*');
      expect(behaviour).toMatchObject({
        CachePolicyId: cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId,
        OriginRequestPolicyId: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
        ResponseHeadersPolicyId: api.ResponseHeadersPolicyId,
        ViewerProtocolPolicy: 'https-only',
        AllowedMethods: ['GET', 'HEAD'],
      });
    });

    it('reaches the function URL through an origin access control that signs every request', () => {
      expect(JSON.stringify(origin.DomainName)).toContain(logicalIdOf(template, 'AWS::Lambda::Url', 'LiveStreamLiveFunctionFunctionUrl'));
      const oac = origin.OriginAccessControlId['Fn::GetAtt'][0] as string;
      expect(template.toJSON().Resources[oac].Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 'lambda', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    });

    it('lets this distribution alone invoke the function, through its URL', () => {
      const url = logicalIdOf(template, 'AWS::Lambda::Url', 'LiveStreamLiveFunctionFunctionUrl');
      const permissions = resourcesOf(template, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName).includes(url));
      expect(permissions.map(([, p]) => p.Properties.Action).sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
      for (const [, permission] of permissions) {
        expect(permission.Properties.Principal).toBe('cloudfront.amazonaws.com');
        expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`:distribution/",{"Ref":"${distribution}"}`);
      }
      // The InvokeFunction grant holds only for calls made through the URL.
      expect(permissions.find(([, p]) => p.Properties.Action === 'lambda:InvokeFunction')?.[1].Properties.InvokedViaFunctionUrl).toBe(true);
    });
  });

  it('with an external issuer, checks its tokens instead, and mirrors its keys', () => {
    const external = synthStack({ jwtIssuer: 'https://login.example.org/', jwtAudience: 'analytics-api, analytics-web' }).template;
    const variables = lambdaNamed(external, AWS_ONLY_FUNCTIONS.live).resource.Properties.Environment.Variables;
    expect(variables.JWT_ISSUER).toBe('https://login.example.org/');
    expect(variables).not.toHaveProperty('USER_POOL_ID');
    expect(lambdaNamed(external, AWS_ONLY_FUNCTIONS.jwks).resource.Properties.Environment.Variables).toMatchObject({ JWT_ISSUER: 'https://login.example.org/', JWT_AUDIENCE: 'analytics-api,analytics-web' });
  });

  it('is left out of the LocalStack target, which hosts no web app', () => {
    const local = synthStack({ target: 'localstack' }).template;
    for (const prefix of Object.values(AWS_ONLY_FUNCTIONS)) expect(() => lambdaNamed(local, prefix)).toThrow(/found none/);
    expect(resourcesOf(local, 'AWS::Lambda::Url').filter(([, url]) => url.Properties.InvokeMode === 'RESPONSE_STREAM')).toEqual([]);
    local.resourceCountIs('Custom::JwksMirror', 0);
  });
});
