import type { Template } from 'aws-cdk-lib/assertions';
import { AWS_ONLY_FUNCTIONS, HOUSE_FUNCTIONS, lambdaNamed, synthStack } from './synth';

type HouseFunctionName = keyof typeof HOUSE_FUNCTIONS;
type AwsOnlyFunctionName = keyof typeof AWS_ONLY_FUNCTIONS;
const PREFIXES: Readonly<Record<HouseFunctionName | AwsOnlyFunctionName, string>> = { ...HOUSE_FUNCTIONS, ...AWS_ONLY_FUNCTIONS };

// Every house function writes its own log group (not logs:* on the account, as the AWS managed
// execution policy would) and sends X-Ray segments.
const LOGS_AND_TRACING = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
// In the VPC (AWS target): Lambda's ENI management.
const IN_VPC = ['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:UnassignPrivateIpAddresses'];
// The database from Secrets Manager: the cluster credentials in AWS, the compose file's URL in the LocalStack variant.
const DATABASE_SECRET = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
// The only actions allowed on Resource "*": neither X-Ray nor the ENI calls take resource ARNs.
// CDK's grantRead of the stream, what an event source mapping reads it with.
const STREAM_CONSUMER = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamConsumer',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'kinesis:ListStreams',
  'kinesis:SubscribeToShard',
];

const WITHOUT_RESOURCE_ARNS = new Set(['xray:PutTelemetryRecords', 'xray:PutTraceSegments', 'cloudwatch:GetMetricData', 'scheduler:ListSchedules', ...IN_VPC]);

/**
 * What each function's execution role may do, and why. `everywhere` holds on both targets;
 * `awsOnly` is added on the AWS target (VPC placement). A function added
 * to HOUSE_FUNCTIONS needs a row here before this file compiles.
 */
const EXPECTED_ACTIONS: Record<HouseFunctionName, { readonly everywhere: readonly string[]; readonly awsOnly?: readonly string[] }> = {
  ingest: {
    everywhere: [
      ...LOGS_AND_TRACING,
      // Events to the stream (PutRecords only) under the stream's key: a producer needs GenerateDataKey.
      'kinesis:PutRecords',
      'kms:GenerateDataKey',
      // The pseudonymisation pepper.
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      // Consent lookups by key on the consent table (no Scan or Query), under the storage key.
      'dynamodb:BatchGetItem',
      'kms:Decrypt',
      'kms:DescribeKey',
      // A user's record key made on their first event (a put, never a delete), under the storage key.
      'dynamodb:PutItem',
      'kms:Encrypt',
    ],
  },
  aggregate: {
    everywhere: [
      ...LOGS_AND_TRACING,
      ...DATABASE_SECRET,
      // The Kinesis event source mapping polls with the function's role.
      ...STREAM_CONSUMER,
      // Decrypt records (stream key); send failed batches to the DLQ (GenerateDataKey, Decrypt on its key).
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'sqs:SendMessage',
      // The record keys that open the batch's records, read by key id (no Scan or Query).
      'dynamodb:BatchGetItem',
      'kms:DescribeKey',
    ],
    awsOnly: IN_VPC,
  },
  rollUp: { everywhere: [...LOGS_AND_TRACING, ...DATABASE_SECRET], awsOnly: IN_VPC },
  purge: { everywhere: [...LOGS_AND_TRACING, ...DATABASE_SECRET], awsOnly: IN_VPC },
  query: {
    everywhere: [
      ...LOGS_AND_TRACING,
      ...DATABASE_SECRET,
      // Reports' links: get under reports/ in the report bucket (presigned with the function's role), decrypted with the storage key; the report function writes them.
      's3:GetObject',
      'kms:Decrypt',
      // Report jobs to the report queue (under its key: GenerateDataKey, Decrypt).
      'sqs:SendMessage',
      'kms:GenerateDataKey',
      // Report schedules as EventBridge Scheduler schedules of the report group, with the scheduler role passed to them.
      'scheduler:CreateSchedule',
      'scheduler:UpdateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:ListSchedules',
      'iam:PassRole',
    ],
    awsOnly: IN_VPC,
  },
  privacy: {
    everywhere: [
      ...LOGS_AND_TRACING,
      ...DATABASE_SECRET,
      // The pseudonymisation pepper: consent is recorded under the pseudonym.
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      // The only writer of the consent registry (records replaced and, on erasure, removed), by key.
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:PutItem',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ],
    awsOnly: IN_VPC,
  },
  migrate: { everywhere: [...LOGS_AND_TRACING, ...DATABASE_SECRET], awsOnly: IN_VPC },
  detect: {
    everywhere: [
      ...LOGS_AND_TRACING,
      ...DATABASE_SECRET,
      // Its enhanced fan-out consumer subscribes to the shards with the function's role.
      ...STREAM_CONSUMER,
      // Publish to the two alert topics; decrypt records, send failed batches to its DLQ and
      // encrypt for the topics (Decrypt, GenerateDataKey on their keys).
      'sns:Publish',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'sqs:SendMessage',
      // The record keys that open the batch's records, read by key id (no Scan or Query).
      'dynamodb:BatchGetItem',
      'kms:DescribeKey',
      // Interventions to the product's own bus (lib/interventions.ts).
      'events:PutEvents',
    ],
    awsOnly: IN_VPC,
  },
  monitor: {
    // The ingest metrics read back, and the alert topics for repeats and escalations.
    everywhere: [...LOGS_AND_TRACING, ...DATABASE_SECRET, 'cloudwatch:GetMetricData', 'sns:Publish', 'kms:Decrypt', 'kms:GenerateDataKey'],
    awsOnly: IN_VPC,
  },
  // Reads and configures in PostgreSQL only: it never notifies.
  alerts: { everywhere: [...LOGS_AND_TRACING, ...DATABASE_SECRET], awsOnly: IN_VPC },
  import: {
    everywhere: [
      ...LOGS_AND_TRACING,
      // The file and its FILE.result.json, under imports/ in the imports bucket (SSE-KMS with the storage key).
      's3:GetObject',
      's3:PutObject',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      // Consent looked up by key, as ingest does; the pepper pseudonymises the file's user ids.
      'dynamodb:BatchGetItem',
      'kms:DescribeKey',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      ...DATABASE_SECRET,
    ],
    awsOnly: IN_VPC,
  },
  report: {
    everywhere: [
      ...LOGS_AND_TRACING,
      ...DATABASE_SECRET,
      // Report files under reports/ in the report bucket (SSE-KMS with the storage key); get also signs the e-mailed links.
      's3:GetObject',
      's3:PutObject',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      // The SQS event source mapping takes jobs from the queue with the function's role (CDK's grantConsumeMessages).
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueUrl',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      // Owners' alerts on the operations topic (its key: GenerateDataKey, Decrypt).
      'sns:Publish',
      // The operations report: the consumers' dead letters peeked (received, made visible again), ingest's metrics read back.
      'cloudwatch:GetMetricData',
    ],
    awsOnly: IN_VPC,
  },
  model: {
    everywhere: [
      ...LOGS_AND_TRACING,
      // Each model's artefact under models/ in the model bucket (SSE-KMS with the storage key).
      's3:GetObject',
      's3:PutObject',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      ...DATABASE_SECRET,
    ],
    awsOnly: IN_VPC,
  },
};

/** The same, for the functions the AWS target alone builds. */
const AWS_ONLY_EXPECTED_ACTIONS: Record<AwsOnlyFunctionName, readonly string[]> = {
  live: [
    ...LOGS_AND_TRACING,
    ...IN_VPC,
    // The mirrored keys and audience (its secret; the storage key's policy lets Secrets Manager decrypt for it). Redis needs no IAM.
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
  ],
  // Writes the mirrored keys' secret (a new version, under the storage key), and nothing else: it reads no data.
  jwks: [...LOGS_AND_TRACING, 'secretsmanager:PutSecretValue', 'kms:GenerateDataKey', 'kms:Decrypt'],
};

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** The statements of every policy attached to the function's role, and the role's managed policies. */
function permissionsOf(template: Template, name: HouseFunctionName | AwsOnlyFunctionName): { statements: Statement[]; managedPolicies: unknown[] } {
  const roleId = lambdaNamed(template, PREFIXES[name]).resource.Properties.Role['Fn::GetAtt'][0] as string;
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && list(r.Properties.Roles).some((role: any) => role.Ref === roleId))
    .flatMap((r) => list(r.Properties.PolicyDocument.Statement) as Statement[]);
  return { statements, managedPolicies: list(resources[roleId]!.Properties.ManagedPolicyArns ?? []) };
}

describe.each([
  ['aws', {}],
  ['localstack', { target: 'localstack' }],
])('execution roles on the %s target', (target, context) => {
  const { template } = synthStack(context);
  const names = Object.keys(HOUSE_FUNCTIONS) as HouseFunctionName[];

  it.each(names)('grant %s exactly the actions of its row in EXPECTED_ACTIONS', (name) => {
    const { statements } = permissionsOf(template, name);
    const expected = EXPECTED_ACTIONS[name];
    const actions = new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)));
    expect([...actions].sort()).toEqual([...new Set([...expected.everywhere, ...(target === 'aws' ? (expected.awsOnly ?? []) : [])])].sort());
  });

  it.each(names)('give %s no AWS managed policy (they grant logs:* on every log group)', (name) => {
    expect(permissionsOf(template, name).managedPolicies).toEqual([]);
  });

  it.each(names)('name a resource in every statement of %s, except for actions that take none', (name) => {
    const wildcard = permissionsOf(template, name).statements.filter((s) => list(s.Resource).includes('*'));
    for (const statement of wildcard) expect(list(statement.Action).filter((a) => !WITHOUT_RESOURCE_ARNS.has(a))).toEqual([]);
  });
});

describe('execution roles of the functions only the AWS target builds', () => {
  const { template } = synthStack();
  const names = Object.keys(AWS_ONLY_FUNCTIONS) as AwsOnlyFunctionName[];

  it.each(names)('grant %s exactly the actions of its row in AWS_ONLY_EXPECTED_ACTIONS, no managed policy, and name a resource wherever one can be named', (name) => {
    const { statements, managedPolicies } = permissionsOf(template, name);
    const actions = new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)));
    expect([...actions].sort()).toEqual([...new Set(AWS_ONLY_EXPECTED_ACTIONS[name])].sort());
    expect(managedPolicies).toEqual([]);
    const wildcard = statements.filter((s) => list(s.Resource).includes('*'));
    for (const statement of wildcard) expect(list(statement.Action).filter((a) => !WITHOUT_RESOURCE_ARNS.has(a))).toEqual([]);
  });
});
