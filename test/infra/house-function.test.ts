import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as path from 'node:path';
import { AnalyticsStack } from '../../lib/analytics-stack';
import { HouseFunction, HouseFunctionsOnly, PROJECT_ROOT } from '../../lib/house-function';
import { settingsFromContext } from '../../lib/settings';
import { HOUSE_FUNCTIONS, lambdaNamed, synthStack, WEB_BUILD_FIXTURE } from './synth';

function bareStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Bare');
}

describe('HouseFunction', () => {
  const { template } = synthStack();

  it.each(Object.entries(HOUSE_FUNCTIONS))('fixes runtime, architecture, tracing and JSON logs on %s', (_name, prefix) => {
    const { resource } = lambdaNamed(template, prefix);
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: expect.stringMatching(/^--enable-source-maps( |$)/) }) },
    });
  });

  it('gives the aggregate consumer a larger young generation, and no other function', () => {
    const nodeOptions = Object.entries(HOUSE_FUNCTIONS).map(([name, prefix]) => [name, lambdaNamed(template, prefix).resource.Properties.Environment.Variables.NODE_OPTIONS]);
    expect(nodeOptions.filter(([, options]) => options !== '--enable-source-maps')).toEqual([['aggregate', '--enable-source-maps --max-semi-space-size=64']]);
  });

  it('runs every Lambda in the stack on nodejs22.x, except CDK framework handlers on a newer runtime', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const runtimes = Object.entries(functions).map(([id, r]) => [id, (r as { Properties: { Runtime: string } }).Properties.Runtime]);
    const ours = runtimes.filter(([id]) => Object.values(HOUSE_FUNCTIONS).some((p) => id!.startsWith(p)));
    expect(ours).toHaveLength(Object.keys(HOUSE_FUNCTIONS).length);
    for (const [, runtime] of ours) expect(runtime).toBe('nodejs22.x');
    // CDK's BucketDeployment handler (the web app's deployment) runs the AWS CLI, on Python.
    const [deployment, ...others] = runtimes.filter(([id]) => id!.startsWith('CustomCDKBucketDeployment'));
    expect(others).toEqual([]);
    expect(deployment![1]).toMatch(/^python3\.\d+$/);
    for (const [, runtime] of runtimes.filter(([id]) => id !== deployment![0])) expect(Number(/^nodejs(\d+)\.x$/.exec(runtime!)?.[1])).toBeGreaterThanOrEqual(22);
  });

  it('gives each function its own log group with the configured retention', () => {
    const { template: t } = synthStack({ logRetentionDays: 90 });
    const { resource } = lambdaNamed(t, HOUSE_FUNCTIONS.ingest);
    const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref as string;
    expect(t.toJSON().Resources[logGroupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
  });

  it('sets the environment variable and grants writes in one bindStream call', () => {
    const stack = bareStack();
    const stream = new kinesis.Stream(stack, 'Stream');
    new HouseFunction(stack, 'Fn', { handler: 'ingest', logRetention: RetentionDays.ONE_WEEK }).bindStream(stream);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STREAM_NAME: { Ref: Match.stringLikeRegexp('^Stream') } }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kinesis:PutRecords',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Stream'), 'Arn'] },
          }),
        ]),
      },
    });
  });
});

describe('HouseFunctionsOnly aspect', () => {
  it('fails synthesis with an error on a plain NodejsFunction', () => {
    const stack = bareStack();
    new NodejsFunction(stack, 'Plain', { entry: path.join(PROJECT_ROOT, 'functions/handlers/ingest.ts') });
    new HouseFunction(stack, 'House', { handler: 'query', logRetention: RetentionDays.ONE_WEEK });
    Aspects.of(stack).add(new HouseFunctionsOnly());

    const annotations = Annotations.fromStack(stack);
    annotations.hasError('/Bare/Plain', Match.stringLikeRegexp('plain NodejsFunction.*HouseFunction'));
    expect(annotations.findError('/Bare/House', Match.anyValue())).toHaveLength(0);
  });

  it('finds no offender in the analytics stack itself', () => {
    const { stack } = synthStack();
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toHaveLength(0);
  });

  it('is installed by AnalyticsStack, so a stray NodejsFunction added to it fails synthesis', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new AnalyticsStack(app, 'AnalyticsStack', { settings: settingsFromContext(app.node), webBuildFolder: WEB_BUILD_FIXTURE });
    new NodejsFunction(stack, 'Sneaky', { entry: path.join(PROJECT_ROOT, 'functions/handlers/ingest.ts') });
    Annotations.fromStack(stack).hasError('/AnalyticsStack/Sneaky', Match.stringLikeRegexp('HouseFunction'));
  });
});
