import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { acknowledgeFinding } from '../../lib/nag';
import { nagFindings as findings, synthStack } from './synth';

function throwawayStack(): Stack {
  return new Stack(new App(), 'Throwaway');
}

describe('cdk-nag AwsSolutions and HIPAA Security packs', () => {
  // Errors and warnings alike: each finding is fixed, or acknowledged with its reason through
  // lib/nag.ts on the resource it concerns, in the construct that creates that resource.
  it.each([
    ['aws', {}],
    ['localstack', { target: 'localstack' }],
  ])('leave no unacknowledged finding on the %s target', (_target, context) => {
    const { app } = synthStack(context);
    expect(findings(app)).toEqual([]);
  });

  it('do run: a bucket with no access logs, TLS policy or KMS key is reported by both packs', () => {
    const stack = throwawayStack();
    new s3.Bucket(stack, 'Careless');
    const reported = findings(stack).join('\n');
    expect(reported).toContain('AwsSolutions-S1 (error) at Throwaway/Careless/Resource');
    expect(reported).toContain('AwsSolutions-S10 (error) at Throwaway/Careless/Resource');
    expect(reported).toContain('HIPAA.Security-S3BucketSSLRequestsOnly (error) at Throwaway/Careless/Resource');
    expect(reported).toContain('HIPAA.Security-S3DefaultEncryptionKMS (error) at Throwaway/Careless/Resource');
  });

  it('silence an acknowledged finding on that resource only, and no other finding', () => {
    const stack = throwawayStack();
    const acknowledged = new s3.Bucket(stack, 'Acknowledged');
    new s3.Bucket(stack, 'Other');
    acknowledgeFinding(acknowledged.node.defaultChild!, 'AwsSolutions-S1', 'a reason long enough to be checked by a reviewer');

    const reported = findings(stack);
    expect(reported.filter((f) => f.startsWith('AwsSolutions-S1 '))).toEqual([expect.stringContaining('at Throwaway/Other/Resource')]);
    expect(reported).toContainEqual(expect.stringMatching(/^AwsSolutions-S10 .* at Throwaway\/Acknowledged\/Resource/));
  });

  it('fail synthesis through Validations when a finding is left, as `cdk synth` does', () => {
    const stack = throwawayStack();
    new s3.Bucket(stack, 'Careless');
    const app = stack.node.root as App;
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1'/);
  });

  it('refuse an IAM4/IAM5 acknowledgement that does not name its finding, or has no reason', () => {
    const stack = throwawayStack();
    expect(() => acknowledgeFinding(stack, 'AwsSolutions-IAM5', 'wildcards are fine here, says someone')).toThrow(/per finding/);
    expect(() => acknowledgeFinding(stack, 'AwsSolutions-S1', 'because')).toThrow(/reason/);
  });
});
