import { dependencyOrder, rehearsalTemplate, type Template } from '../../../bin/deploy-rehearsal';

const ENV = { account: '123456789012', region: 'us-east-1' };

const template: Template = {
  Resources: {
    Policy: {
      Type: 'AWS::IAM::Policy',
      DependsOn: ['Secret', 'Role'],
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: { Statement: [{ Resource: [{ Ref: 'Secret' }, { 'Fn::GetAtt': ['Consumer', 'ConsumerARN'] }, { 'Fn::Sub': 'arn:${AWS::Partition}:x:::${Secret}/${Role.Arn}' }] }] },
      },
    },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Secret: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    Consumer: { Type: 'AWS::Kinesis::StreamConsumer', Properties: {} },
  },
  Outputs: { Arn: { Value: { 'Fn::GetAtt': ['Consumer', 'ConsumerARN'] } } },
};

describe('the template the rehearsal gives moto', () => {
  const unsupported = new Set(['AWS::SecretsManager::Secret', 'AWS::Kinesis::StreamConsumer']);

  it('puts every resource after the ones it refers to or depends on', () => {
    const order = dependencyOrder(template);
    expect(order.indexOf('Policy')).toBeGreaterThan(Math.max(order.indexOf('Role'), order.indexOf('Secret'), order.indexOf('Consumer')));
  });

  it('stands an ARN placeholder in for each Ref, GetAtt and Sub of a skipped resource, keeps the others, and leaves out Outputs', () => {
    const { template: given, placeheld } = rehearsalTemplate(template, new Set(['Policy', 'Role', 'Secret', 'Consumer']), unsupported, ENV);

    expect(given.Resources['Policy']).toEqual({
      Type: 'AWS::IAM::Policy',
      DependsOn: ['Role'],
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: {
          Statement: [
            {
              Resource: [
                'arn:aws:secretsmanager:us-east-1:123456789012:rehearsal-placeholder/Secret',
                'arn:aws:kinesis:us-east-1:123456789012:rehearsal-placeholder/Consumer/ConsumerARN',
                { 'Fn::Sub': 'arn:${AWS::Partition}:x:::arn:aws:secretsmanager:us-east-1:123456789012:rehearsal-placeholder/Secret/${Role.Arn}' },
              ],
            },
          ],
        },
      },
    });
    expect(given).not.toHaveProperty('Outputs');
    expect(placeheld.get('Policy')?.sort()).toEqual(['Consumer', 'Secret']);
  });

  it('gives moto only the resources kept', () => {
    expect(Object.keys(rehearsalTemplate(template, new Set(['Role']), unsupported, ENV).template.Resources)).toEqual(['Role']);
  });

  it('names an event bus anew in each attempt, as moto keeps the bus of a stack that failed', () => {
    const withBus = { Resources: { Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'interventions' } } } };
    const named = () => rehearsalTemplate(withBus, new Set(['Bus']), new Set(), ENV).template.Resources['Bus']!.Properties!['Name'] as string;
    const [first, second] = [named(), named()];

    expect(first).toMatch(/^interventions-\d+$/);
    expect(second).toMatch(/^interventions-\d+$/);
    expect(second).not.toBe(first);
  });
});
