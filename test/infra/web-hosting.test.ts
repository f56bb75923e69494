import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runInNewContext } from 'node:vm';
import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { AnalyticsStack } from '../../lib/analytics-stack';
import { parseSettings } from '../../lib/settings';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, nagFindings, synthStack, WEB_BUILD_FIXTURE } from './synth';

type Json = any;

/**
 * A CloudFormation value as a reader sees it: strings as they are, references as `${Id}` or
 * `${Id.Attribute}`, joins joined, anything else (the stack id's UUID) as `${…}`.
 */
function rendered(value: Json): string {
  if (typeof value === 'string') return value;
  if (value?.Ref !== undefined) return `\${${value.Ref}}`;
  if (value?.['Fn::GetAtt'] !== undefined) return `\${${(value['Fn::GetAtt'] as string[]).join('.')}}`;
  if (value?.['Fn::Join'] !== undefined) return (value['Fn::Join'][1] as Json[]).map(rendered).join(value['Fn::Join'][0] as string);
  return '${…}';
}

const resourceOf = (template: Template, type: string, prefix: string): Json => template.toJSON().Resources[logicalIdOf(template, type, prefix)];

/** The distribution's configuration, with each cache behaviour by path pattern. */
function distributionOf(template: Template) {
  const config = resourceOf(template, 'AWS::CloudFront::Distribution', 'WebAppDistribution').Properties.DistributionConfig;
  const behaviour = (pattern: string): Json => (config.CacheBehaviors as Json[]).find((b) => b.PathPattern === pattern);
  const origin = (id: string): Json => (config.Origins as Json[]).find((o) => o.Id === id);
  return { config, behaviour, origin };
}

/** The config.json the entry deployment writes, with its deploy-time values rendered. */
function deployedConfig(app: App, template: Template): Json {
  const deployment = resourceOf(template, 'Custom::CDKBucketDeployment', 'WebAppEntryFiles').Properties;
  // The last source, so that it overwrites any config.json the build holds.
  const last = (deployment.SourceObjectKeys as string[]).length - 1;
  const asset = path.join(app.synth().directory, `asset.${(deployment.SourceObjectKeys[last] as string).replace(/\.zip$/, '')}`, 'config.json');
  let text = readFileSync(asset, 'utf8');
  for (const [marker, value] of Object.entries((deployment.SourceMarkers?.[last] ?? {}) as Record<string, Json>)) text = text.split(marker).join(rendered(value));
  return JSON.parse(text);
}

describe('the web app in AWS', () => {
  const { app, template } = synthStack();
  const { config, behaviour, origin } = distributionOf(template);
  const bucket = logicalIdOf(template, 'AWS::S3::Bucket', 'WebAppBucket');
  const distribution = logicalIdOf(template, 'AWS::CloudFront::Distribution', 'WebAppDistribution');
  const signInClient = logicalIdOf(template, 'AWS::Cognito::UserPoolClient', 'WebAppSignInClient');
  const cloudFrontUrl = `https://\${${distribution}.DomainName}`;

  describe('its bucket', () => {
    it('is private, encrypted, versioned, not a website, and logs its access beside the other buckets', () => {
      const { Properties: properties } = resourceOf(template, 'AWS::S3::Bucket', 'WebAppBucket');
      expect(properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
      expect(properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(properties.WebsiteConfiguration).toBeUndefined();
      expect(properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logicalIdOf(template, 'AWS::S3::Bucket', 'StorageAccessLogBucket') }, LogFilePrefix: 'web-bucket/' });
    });

    it('lets only this distribution read it, through origin access control, and refuses plain HTTP', () => {
      const policy = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucket } } }));
      expect(policy).toHaveLength(1);
      const statements = policy[0]!.Properties.PolicyDocument.Statement as Json[];
      expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] },
          Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
        },
      ]);
      const allowed = statements.find((s) => s.Effect === 'Allow');
      expect(rendered(allowed.Condition.StringEquals['AWS:SourceArn'])).toBe(`arn:\${AWS::Partition}:cloudfront::\${AWS::AccountId}:distribution/\${${distribution}}`);
      expect(statements.filter((s) => s.Effect === 'Deny')).toEqual([expect.objectContaining({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);

      const s3Origin = origin(config.DefaultCacheBehavior.TargetOriginId);
      expect(s3Origin.DomainName).toEqual({ 'Fn::GetAtt': [bucket, 'RegionalDomainName'] });
      expect(s3Origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
      const oac = s3Origin.OriginAccessControlId['Fn::GetAtt'][0] as string;
      expect(template.toJSON().Resources[oac].Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    });
  });

  describe('its distribution', () => {
    it('serves index.html at the root, over HTTPS only (redirecting plain HTTP)', () => {
      expect(config.DefaultRootObject).toBe('index.html');
      expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
      expect(config.CustomErrorResponses).toBeUndefined();
    });

    describe("the viewer-request function that answers the app's routes with index.html", () => {
      const fn = resourceOf(template, 'AWS::CloudFront::Function', 'WebAppAppRoutes');
      // CloudFront Functions are plain JavaScript: the deployed code, run in a context of its own.
      const handler = runInNewContext(`${fn.Properties.FunctionCode as string}\nhandler;`) as (event: Json) => { uri: string };
      const viewerRequest = (uri: string) => handler({ request: { method: 'GET', uri, headers: {}, querystring: {}, cookies: {} } }).uri;

      it.each(['/', '/alerts/abc', '/alerts/0b6a6a53-3bd5-4a8c-9a61-2d6f0c1d1e6f', '/dashboards', '/dashboards/d1/edit', '/metrics/sessions_started'])('rewrites the route %s to /index.html', (uri) => {
        expect(viewerRequest(uri)).toBe('/index.html');
      });

      it.each(['/assets/x.js', '/assets/index-Bq3xYx1c.css', '/favicon.ico', '/config.json', '/index.html'])('leaves the file %s alone, so a missing one is not answered with the page', (uri) => {
        expect(viewerRequest(uri)).toBe(uri);
      });

      it("runs on the app's files only, not on the API's paths", () => {
        expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
        expect(config.DefaultCacheBehavior.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::CloudFront::Function', 'WebAppAppRoutes'), 'FunctionARN'] } }]);
        for (const pattern of ['/v1/*', '/openapi.json']) expect(behaviour(pattern).FunctionAssociations).toBeUndefined();
      });
    });

    it.each(['/v1/*', '/openapi.json'])('sends %s to the HTTP API uncached, with every viewer header but Host (Authorization included) and every method', (pattern) => {
      const api = behaviour(pattern);
      const apiOrigin = origin(api.TargetOriginId);
      expect(JSON.stringify(apiOrigin.DomainName)).toContain(JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::ApiGatewayV2::Api', 'ApiHttpApi'), 'ApiEndpoint'] }));
      expect(apiOrigin.CustomOriginConfig).toEqual({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
      // CloudFront forwards Authorization through an origin request policy only when caching is off.
      expect(api.CachePolicyId).toBe(cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId);
      expect(api.OriginRequestPolicyId).toBe(cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId);
      expect([...(api.AllowedMethods as string[])].sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
      expect(api.ViewerProtocolPolicy).toBe('https-only');
    });

    it("caches the app's files", () => {
      expect(config.DefaultCacheBehavior.CachePolicyId).toBe(cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId);
    });

    describe('its security headers, on the app and the API alike', () => {
      const policy = resourceOf(template, 'AWS::CloudFront::ResponseHeadersPolicy', 'WebAppSecurityHeaders').Properties.ResponseHeadersPolicyConfig;
      const headers = policy.SecurityHeadersConfig;
      const csp = Object.fromEntries(
        rendered(headers.ContentSecurityPolicy.ContentSecurityPolicy)
          .split(';')
          .map((directive) => directive.trim().split(/\s+/))
          .map(([name, ...sources]) => [name!, sources]),
      );

      it('are on every behaviour', () => {
        const id = { Ref: logicalIdOf(template, 'AWS::CloudFront::ResponseHeadersPolicy', 'WebAppSecurityHeaders') };
        for (const b of [config.DefaultCacheBehavior, behaviour('/v1/*'), behaviour('/openapi.json')]) expect(b.ResponseHeadersPolicyId).toEqual(id);
      });

      it('pin HTTPS for two years, subdomains included, ready for preload lists', () => {
        expect(headers.StrictTransportSecurity).toEqual({ AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Preload: true, Override: true });
      });

      it("let only the app's own scripts and styles run, and connect only to its origin and the user pool's sign-in", () => {
        expect(csp['default-src']).toEqual(["'none'"]);
        expect(csp['script-src']).toEqual(["'self'"]);
        expect(csp['style-src']).toEqual(["'self'"]);
        expect(csp['connect-src']).toEqual(["'self'", 'https://analytics-${…}.auth.${AWS::Region}.amazoncognito.com', 'https://cognito-idp.${AWS::Region}.amazonaws.com']);
        expect(csp['frame-ancestors']).toEqual(["'none'"]);
        expect(csp['base-uri']).toEqual(["'none'"]);
        expect(JSON.stringify(csp)).not.toMatch(/unsafe-|\*/);
      });

      it('refuse sniffing, framing, referrers and device features', () => {
        expect(headers.ContentTypeOptions).toEqual({ Override: true });
        expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
        expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
        expect(policy.CustomHeadersConfig.Items).toEqual([{ Header: 'Permissions-Policy', Value: expect.stringMatching(/(^|, )camera=\(\)(,|$)/), Override: true }]);
        expect(policy.CustomHeadersConfig.Items[0].Value).toMatch(/microphone=\(\)/);
        expect(policy.CustomHeadersConfig.Items[0].Value).toMatch(/geolocation=\(\)/);
      });
    });

    it('stands on the cloudfront.net name by default, whose TLS floor CloudFront fixes', () => {
      expect(config.Aliases).toBeUndefined();
      expect(config.ViewerCertificate).toBeUndefined();
    });
  });

  describe('sign-in', () => {
    it('gives the app a public client of the user pool: authorization code (PKCE), no secret, back to the app', () => {
      const client = resourceOf(template, 'AWS::Cognito::UserPoolClient', 'WebAppSignInClient').Properties;
      expect(client).toMatchObject({
        UserPoolId: { Ref: logicalIdOf(template, 'AWS::Cognito::UserPool', 'ApiUserPool') },
        GenerateSecret: false,
        AllowedOAuthFlows: ['code'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: ['openid', 'profile'],
        SupportedIdentityProviders: ['COGNITO'],
        PreventUserExistenceErrors: 'ENABLED',
      });
      expect(client.CallbackURLs.map(rendered)).toEqual([`${cloudFrontUrl}/`]);
      expect(client.LogoutURLs.map(rendered)).toEqual([`${cloudFrontUrl}/`]);
    });

    it('opens the hosted sign-in on a prefix unique to the stack', () => {
      const domain = resourceOf(template, 'AWS::Cognito::UserPoolDomain', 'WebAppSignInDomain').Properties;
      expect(domain.UserPoolId).toEqual({ Ref: logicalIdOf(template, 'AWS::Cognito::UserPool', 'ApiUserPool') });
      expect(domain.Domain).toEqual({ 'Fn::Join': ['-', ['analytics', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]] });
    });

    it('writes config.json with the API on the same origin and what sign-in needs, the web client id among it', () => {
      expect(deployedConfig(app, template)).toEqual({
        apiBase: '',
        auth: {
          kind: 'cognito',
          region: '${AWS::Region}',
          userPoolId: `\${${logicalIdOf(template, 'AWS::Cognito::UserPool', 'ApiUserPool')}}`,
          clientId: `\${${signInClient}}`,
          domain: 'https://analytics-${…}.auth.${AWS::Region}.amazoncognito.com',
          redirectUri: `${cloudFrontUrl}/`,
          scopes: ['openid', 'profile'],
        },
      });
    });
  });

  describe('deployment of the build', () => {
    const hashed = resourceOf(template, 'Custom::CDKBucketDeployment', 'WebAppHashedFiles');
    const entry = resourceOf(template, 'Custom::CDKBucketDeployment', 'WebAppEntryFiles');

    it('uploads the content-hashed files first, cached for a year and kept for tabs still open on the last release', () => {
      expect(hashed.Properties).toMatchObject({ DestinationBucketName: { Ref: bucket }, Exclude: ['*'], Include: ['assets/*'], Prune: false, SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' } });
      expect(entry.DependsOn).toContain(logicalIdOf(template, 'Custom::CDKBucketDeployment', 'WebAppHashedFiles'));
    });

    it('then replaces index.html and config.json, revalidated on every load, and invalidates the cache', () => {
      expect(entry.Properties).toMatchObject({
        DestinationBucketName: { Ref: bucket },
        Exclude: ['assets/*'],
        Prune: true,
        SystemMetadata: { 'cache-control': 'no-cache' },
        DistributionId: { Ref: distribution },
        DistributionPaths: ['/*'],
      });
    });

    it('runs without Docker: the build folder is copied as it is and CDK ships the handler prebuilt', () => {
      const staged = app.synth().directory;
      const folderAsset = (entry.Properties.SourceObjectKeys as string[])[0]!.replace(/\.zip$/, '');
      expect(readFileSync(path.join(staged, `asset.${folderAsset}`, 'index.html'), 'utf8')).toContain('<div id="root">');
    });
  });

  it('outputs the address people open', () => {
    const outputs = template.findOutputs('*', { Value: Match.anyValue() });
    const [id, output] = Object.entries(outputs).find(([key]) => key.startsWith('WebAppUrl'))!;
    expect(id).toMatch(/^WebAppUrl/);
    expect(rendered(output.Value)).toBe(cloudFrontUrl);
  });

  it('makes alert messages link to it unless dashboardUrl says otherwise', () => {
    for (const fn of [HOUSE_FUNCTIONS.detect, HOUSE_FUNCTIONS.monitor]) {
      expect(rendered(lambdaNamed(template, fn).resource.Properties.Environment.Variables.DASHBOARD_URL)).toBe(cloudFrontUrl);
    }
    const { template: told } = synthStack({ dashboardUrl: 'https://care.example.org' });
    expect(lambdaNamed(told, HOUSE_FUNCTIONS.detect).resource.Properties.Environment.Variables.DASHBOARD_URL).toBe('https://care.example.org');
  });
});

describe('the web app on a domain of its own', () => {
  const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/0b6a6a53-3bd5-4a8c-9a61-2d6f0c1d1e6f';
  const { template } = synthStack({ webDomainName: 'analytics.example.org', webCertificateArn: certificateArn, signInDomainPrefix: 'example-analytics' });
  const { config } = distributionOf(template);

  it('answers to that name with its certificate, refusing TLS older than 1.2', () => {
    expect(config.Aliases).toEqual(['analytics.example.org']);
    expect(config.ViewerCertificate).toEqual({ AcmCertificateArn: certificateArn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
  });

  it('signs in on the given prefix and comes back to that name', () => {
    expect(resourceOf(template, 'AWS::Cognito::UserPoolDomain', 'WebAppSignInDomain').Properties.Domain).toBe('example-analytics');
    expect(resourceOf(template, 'AWS::Cognito::UserPoolClient', 'WebAppSignInClient').Properties.CallbackURLs).toEqual(['https://analytics.example.org/']);
    const url = Object.entries(template.findOutputs('*')).find(([key]) => key.startsWith('WebAppUrl'))![1];
    expect(url.Value).toBe('https://analytics.example.org');
    expect(lambdaNamed(template, HOUSE_FUNCTIONS.detect).resource.Properties.Environment.Variables.DASHBOARD_URL).toBe('https://analytics.example.org');
  });
});

describe('cdk-nag on the web app as `cdk deploy` builds it', () => {
  it('leaves no unacknowledged finding with a domain of its own and the account and region known', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new AnalyticsStack(app, 'AnalyticsStack', {
      settings: parseSettings({ webDomainName: 'analytics.example.org', webCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0b6a6a53-3bd5-4a8c-9a61-2d6f0c1d1e6f' }),
      webBuildFolder: WEB_BUILD_FIXTURE,
      env: { account: '123456789012', region: 'eu-west-2' },
    });
    expect(nagFindings(app).filter((finding) => /\/WebApp\/|CDKBucketDeployment/.test(finding))).toEqual([]);
  });
});

describe('the web app with an external identity provider', () => {
  const { app, template } = synthStack({ jwtIssuer: 'https://id.example.com/', jwtAudience: 'analytics-api' });

  it('creates no client or hosted sign-in, and the app asks for a token instead', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
    expect(deployedConfig(app, template)).toEqual({ apiBase: '', auth: { kind: 'token' } });
  });

  it('lets the page connect to its own origin only', () => {
    const policy = resourceOf(template, 'AWS::CloudFront::ResponseHeadersPolicy', 'WebAppSecurityHeaders').Properties.ResponseHeadersPolicyConfig;
    expect(rendered(policy.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy)).toContain("connect-src 'self';");
  });
});

describe('an unbuilt web app', () => {
  it('stops synthesis of the AWS target, saying to build it, rather than deploying an empty site', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'web-dist-'));
    try {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      expect(() => new AnalyticsStack(app, 'AnalyticsStack', { settings: parseSettings({}), webBuildFolder: empty })).toThrow(/web app is not built.*index\.html is missing.*npm run build:web/);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('is not needed by the LocalStack target, which hosts no web app', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new AnalyticsStack(app, 'AnalyticsStack', { settings: parseSettings({ target: 'localstack' }) });
    expect(stack.webHosting).toBeUndefined();
  });
});
