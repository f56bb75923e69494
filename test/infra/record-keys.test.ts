import type { Template } from 'aws-cdk-lib/assertions';
import { HOUSE_FUNCTIONS, lambdaNamed, logicalIdOf, synthStack } from './synth';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** The actions a function's role has on the record key table (statements whose resource is the table). */
function actionsOnTable(template: Template, fn: keyof typeof HOUSE_FUNCTIONS, tableId: string): string[] {
  const roleId = lambdaNamed(template, HOUSE_FUNCTIONS[fn]).resource.Properties.Role['Fn::GetAtt'][0] as string;
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && list(r.Properties.Roles).some((role: any) => role.Ref === roleId))
    .flatMap((r) => list(r.Properties.PolicyDocument.Statement) as Statement[]);
  const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${tableId}"`));
  return [...new Set(onTable.flatMap((s) => list(s.Action)))].sort();
}

describe.each([
  ['aws', {}],
  ['localstack', { target: 'localstack' }],
])('the record key table on the %s target (crypto-shredding of stream records)', (_target, context) => {
  const { template } = synthStack(context);
  const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', 'StorageRecordKeyTable');

  it('is keyed by id, on demand, encrypted with the storage key, and keeps no backups that would bring a deleted key back', () => {
    const table = template.toJSON().Resources[tableId];
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key', 'StorageKey'), 'Arn'] } },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    });
  });

  it.each([
    // Ingest makes a user's key on their first event and never deletes one.
    ['ingest', ['dynamodb:BatchGetItem', 'dynamodb:PutItem']],
    // The consumers read keys by id to open records.
    ['aggregate', ['dynamodb:BatchGetItem']],
    ['detect', ['dynamodb:BatchGetItem']],
    // Erasure deletes the user's key (both of its items), and never makes one.
    ['privacy', ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem']],
  ] as const)('lets %s do only %j on it, and names it in RECORD_KEY_TABLE_NAME', (fn, actions) => {
    expect(actionsOnTable(template, fn, tableId)).toEqual(actions);
    expect(lambdaNamed(template, HOUSE_FUNCTIONS[fn]).resource.Properties.Environment.Variables.RECORD_KEY_TABLE_NAME).toEqual({ Ref: tableId });
  });

  it.each(['rollUp', 'purge', 'query', 'migrate', 'monitor', 'alerts'] as const)('gives %s no access to it', (fn) => {
    expect(actionsOnTable(template, fn, tableId)).toEqual([]);
    expect(lambdaNamed(template, HOUSE_FUNCTIONS[fn]).resource.Properties.Environment?.Variables?.RECORD_KEY_TABLE_NAME).toBeUndefined();
  });

  it('is never listed: no function may Scan or Query it', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((r: any) => list(r.Properties.PolicyDocument.Statement) as Statement[]);
    const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${tableId}"`));
    expect(onTable.flatMap((s) => list(s.Action)).filter((a) => /Scan|Query|\*/.test(a))).toEqual([]);
  });
});
