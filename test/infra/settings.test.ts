import { parseSettings, SettingsError } from '../../lib/settings';
import { synthStack } from './synth';

describe('settings from CDK context', () => {
  it('falls back to the documented defaults', () => {
    expect(parseSettings({})).toMatchObject({
      target: 'aws',
      kAnonymity: 10,
      reportRetentionDays: 365,
      idempotencyKeyRetentionDays: 31,
      minuteRollupRetentionDays: 7,
      hourRollupRetentionDays: 400,
      auditRetentionDays: 2190,
      alertRetentionDays: 365,
      privacyBudgetEpsilon: 10,
      privacyBudgetDelta: 0.00001,
      logRetentionDays: 30,
      shardCount: 0,
      deletionProtection: true,
      alertEmail: undefined,
      alertPhone: undefined,
      jwtIssuer: undefined,
      // Unset, alert messages link to the web app the stack hosts.
      dashboardUrl: undefined,
      webDomainName: undefined,
      signInDomainPrefix: undefined,
      databaseUrl: 'postgres://postgres:postgres@host.docker.internal:5432/analytics',
      redisUrl: 'redis://host.docker.internal:6379',
    });
  });

  it('accepts strings as `cdk -c key=value` passes them', () => {
    expect(parseSettings({ kAnonymity: '25', shardCount: '4', deletionProtection: 'false' })).toMatchObject({
      kAnonymity: 25,
      shardCount: 4,
      deletionProtection: false,
    });
  });

  it.each([
    ['kAnonymity', 'abc'],
    ['kAnonymity', 1],
    ['kAnonymity', 2.5],
    ['reportRetentionDays', 0],
    // Shorter than ingest accepts an event for: a resent event would be counted twice.
    ['idempotencyKeyRetentionDays', 30],
    ['minuteRollupRetentionDays', 0],
    // Shorter than a month: an alert resolved today would vanish while people still ask about it.
    ['alertRetentionDays', 29],
    ['logRetentionDays', 31],
    ['shardCount', -1],
    ['target', 'gcp'],
    ['alertEmail', 'not-an-address'],
    ['alertPhone', '07700 900123'],
    ['escalationPhone', '07700 900123'],
    ['escalationEmail', 'not-an-address'],
    ['alertEmailFrom', 'not-an-address'],
    ['alertEmailTo', 'a@example.org, not-an-address'],
    ['jwtIssuer', 'issuer'],
    ['deletionProtection', 'maybe'],
    ['dashboardUrl', 'dashboard.example.org'],
    ['webDomainName', 'https://analytics.example.org'],
    ['webDomainName', 'Analytics.Example.org'],
    // CloudFront takes certificates from us-east-1 only.
    ['webCertificateArn', 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6a6a53-3bd5-4a8c-9a61-2d6f0c1d1e6f'],
    ['signInDomainPrefix', 'my-aws-analytics'],
    ['signInDomainPrefix', 'Analytics'],
    ['signInDomainPrefix', '-analytics'],
  ])('rejects %s = %j with an error naming the key', (key, value) => {
    expect(() => parseSettings({ [key]: value })).toThrow(SettingsError);
    expect(() => parseSettings({ [key]: value })).toThrow(new RegExp(`"${key}"`));
  });

  it('requires the audience when an issuer is given, naming jwtAudience', () => {
    expect(() => parseSettings({ jwtIssuer: 'https://id.example.com/' })).toThrow(/"jwtAudience" is required when jwtIssuer is set/);
  });

  it('reads alertEmailTo as a comma-separated list and wants it with alertEmailFrom, both ways', () => {
    expect(parseSettings({ alertEmailFrom: 'alerts@example.org', alertEmailTo: 'a@example.org, b@example.org' }).alertEmailTo).toEqual(['a@example.org', 'b@example.org']);
    expect(() => parseSettings({ alertEmailFrom: 'alerts@example.org' })).toThrow(/"alertEmailTo" is required when alertEmailFrom is set/);
    expect(() => parseSettings({ alertEmailTo: 'a@example.org' })).toThrow(/"alertEmailFrom" is required when alertEmailTo is set/);
  });

  it('wants webDomainName and webCertificateArn together, both ways', () => {
    const certificate = 'arn:aws:acm:us-east-1:123456789012:certificate/0b6a6a53-3bd5-4a8c-9a61-2d6f0c1d1e6f';
    expect(parseSettings({ webDomainName: 'analytics.example.org', webCertificateArn: certificate })).toMatchObject({ webDomainName: 'analytics.example.org', webCertificateArn: certificate });
    expect(() => parseSettings({ webDomainName: 'analytics.example.org' })).toThrow(/"webCertificateArn" is required when webDomainName is set/);
    expect(() => parseSettings({ webCertificateArn: certificate })).toThrow(/"webDomainName" is required when webCertificateArn is set/);
  });

  it('stops the stack from being built when a context value is bad', () => {
    expect(() => synthStack({ kAnonymity: 'abc' })).toThrow(/"kAnonymity"/);
  });
});
