import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The one way this project suppresses a cdk-nag finding (AwsSolutions, HIPAA Security; see
 * test/infra/cdk-nag.test.ts). Put it on the resource that owns the finding, in the construct
 * that creates it, with the reason the rule does not apply or what compensates for it.
 *
 * Rules that report several findings per resource (IAM4 per managed policy, IAM5 per wildcard)
 * must name the finding, `AwsSolutions-IAM5[Resource::*]`, so a new wildcard is still reported.
 */
export function acknowledgeFinding(scope: IConstruct, id: string, reason: string): void {
  if (/^AwsSolutions-IAM[45]$/.test(id)) {
    throw new Error(`${scope.node.path}: acknowledge ${id} per finding, as ${id}[Resource::...] or ${id}[Action::...]`);
  }
  if (reason.trim().length < 20) throw new Error(`${scope.node.path}: ${id} needs a reason a reviewer can check`);
  Validations.of(scope).acknowledge({ id, reason });
}
