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

  it('stops the stack from being built when a context value is bad', () => {
    expect(() => synthStack({ kAnonymity: 'abc' })).toThrow(/"kAnonymity"/);
  });
});
