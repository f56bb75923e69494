import type { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { customerManagedKey } from './keys';

export interface AlertingProps {
  readonly alertEmail?: string;
  readonly alertPhone?: string;
  readonly removalPolicy: RemovalPolicy;
}

/** Where alerts go: `critical` pages a person (SMS and e-mail), `warning` is e-mail only. */
export class Alerting extends Construct {
  readonly key: kms.Key;
  readonly criticalTopic: sns.Topic;
  readonly warningTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);

    this.key = customerManagedKey(this, 'Alert topics', props.removalPolicy);
    // CloudWatch publishes alarm notifications itself; without this an encrypted topic
    // silently drops every alarm.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.criticalTopic = new sns.Topic(this, 'CriticalTopic', {
      displayName: 'Analytics critical',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.warningTopic = new sns.Topic(this, 'WarningTopic', {
      displayName: 'Analytics warning',
      masterKey: this.key,
      enforceSSL: true,
    });

    if (props.alertEmail !== undefined) {
      this.criticalTopic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
      this.warningTopic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
    }
    if (props.alertPhone !== undefined) {
      // Warnings by SMS would train people to ignore the pages that matter.
      this.criticalTopic.addSubscription(new subscriptions.SmsSubscription(props.alertPhone));
    }
  }
}
