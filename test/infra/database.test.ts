import { CREATABLE_AURORA_POSTGRES_VERSIONS } from '../../lib/database';
import { HOUSE_FUNCTIONS, logicalIdOf, synthStack } from './synth';

describe('Aurora and its proxy', () => {
  const { template } = synthStack();
  const resources = Object.values(template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>);
  const groupId = (prefix: string) => ({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::EC2::SecurityGroup', prefix), 'GroupId'] });

  it('runs an engine version RDS still creates clusters of', () => {
    const [cluster, ...others] = resources.filter((r) => r.Type === 'AWS::RDS::DBCluster');
    expect(others).toEqual([]);
    expect(cluster!.Properties).toMatchObject({ Engine: 'aurora-postgresql', EngineVersion: CREATABLE_AURORA_POSTGRES_VERSIONS[0].auroraPostgresFullVersion });
    // 16.6 is what a first deploy was refused with: the list must not hold it again.
    expect(CREATABLE_AURORA_POSTGRES_VERSIONS.map((v) => v.auroraPostgresFullVersion)).not.toContain('16.6');
  });

  it('opens the proxy to the cluster by one egress rule and one ingress rule of its own', () => {
    const [proxy, cluster] = [groupId('DatabaseProxySecurityGroup'), groupId('DatabaseClusterSecurityGroup')];
    const egress = resources.filter((r) => r.Type === 'AWS::EC2::SecurityGroupEgress' && JSON.stringify(r.Properties.GroupId) === JSON.stringify(proxy));
    expect(egress.map((r) => r.Properties.DestinationSecurityGroupId)).toEqual([cluster]);
    const ingress = resources.filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.GroupId) === JSON.stringify(cluster));
    expect(ingress.map((r) => r.Properties.SourceSecurityGroupId)).toEqual(expect.arrayContaining([proxy]));
  });

  it('rotates the credentials secret every 30 days, by a rotation function that may reach the cluster', () => {
    const schedules = resources.filter((r) => r.Type === 'AWS::SecretsManager::RotationSchedule');
    expect(schedules).toHaveLength(1);
    const secret = logicalIdOf(template, 'AWS::SecretsManager::SecretTargetAttachment', 'DatabaseClusterSecretAttachment');
    expect(schedules[0]!.Properties).toMatchObject({ SecretId: { Ref: secret }, RotationRules: { ScheduleExpression: 'rate(30 days)' } });
    const cluster = groupId('DatabaseClusterSecurityGroup');
    const ingress = resources.filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.GroupId) === JSON.stringify(cluster));
    expect(ingress.map((r) => r.Properties.SourceSecurityGroupId)).toEqual([groupId('DatabaseProxySecurityGroup'), groupId('DatabaseClusterRotationSingleUserSecurityGroup')]);
  });
});

describe('reserved concurrency', () => {
  const reserved = (context: Record<string, unknown>) =>
    Object.entries(synthStack(context).template.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
      .map(([id, fn]) => [id.replace(/[0-9A-F]{8}$/, ''), fn.Properties.ReservedConcurrentExecutions])
      .sort();

  it('reserves none unless configured, so an account with a small concurrency quota can deploy', () => {
    expect(reserved({})).toEqual([]);
  });

  it('reserves scheduledFunctionConcurrency for each scheduled function when set, and only for them', () => {
    expect(reserved({ scheduledFunctionConcurrency: '2' })).toEqual(
      [HOUSE_FUNCTIONS.migrate, HOUSE_FUNCTIONS.model, HOUSE_FUNCTIONS.monitor, HOUSE_FUNCTIONS.purge, HOUSE_FUNCTIONS.rollUp].map((prefix) => [prefix, 2]).sort(),
    );
  });
});
