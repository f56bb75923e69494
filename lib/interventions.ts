import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionBinding, HouseFunction } from './house-function';
import { customerManagedKey } from './keys';
import { acknowledgeFinding } from './nag';
import { INTERVENTION_EVENT_SOURCE } from '../functions/adapters/aws/eventbridge-interventions';

export interface InterventionsProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Interventions back to the app (DESIGN.md "Interventions and clinicians"): the product's own
 * EventBridge bus, where detect puts `intervention.recommended`, and an example of the app's side,
 * a rule that takes them to an encrypted queue its backend reads (with a dead-letter queue for
 * what EventBridge could not deliver). The messages hold the app's channel tokens, so nothing
 * logs them: no archive, no log target.
 */
export class Interventions extends Construct implements FunctionBinding {
  readonly bus: events.EventBus;
  readonly key: kms.Key;
  readonly appQueue: sqs.Queue;
  readonly undeliveredQueue: sqs.Queue;
  readonly exampleRule: events.Rule;

  constructor(scope: Construct, id: string, props: InterventionsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { description: 'intervention.recommended from the detect consumer to the app' });
    this.key = customerManagedKey(this, 'Interventions queued for the app (they carry its channel tokens)', props.removalPolicy);
    // EventBridge encrypts what it sends to the queues with this key.
    this.key.grant(new iam.ServicePrincipal('events.amazonaws.com'), 'kms:GenerateDataKey', 'kms:Decrypt');
    const queue = (queueId: string, retention: Duration) =>
      new sqs.Queue(this, queueId, { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.key, enforceSSL: true, retentionPeriod: retention, removalPolicy: props.removalPolicy });
    this.undeliveredQueue = queue('UndeliveredQueue', Duration.days(14));
    acknowledgeFinding(this.undeliveredQueue.node.defaultChild!, 'AwsSolutions-SQS3', "This queue is the dead-letter queue itself: the example rule's target DLQ for interventions EventBridge could not deliver.");
    // An intervention older than a few hours reaches no one at the moment it was for.
    this.appQueue = new sqs.Queue(this, 'AppQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.hours(6),
      removalPolicy: props.removalPolicy,
      deadLetterQueue: { queue: this.undeliveredQueue, maxReceiveCount: 5 },
    });
    this.exampleRule = new events.Rule(this, 'ToAppExample', {
      eventBus: this.bus,
      description: "Example of the app's subscription: every intervention.recommended to the app's queue",
      eventPattern: { source: [INTERVENTION_EVENT_SOURCE], detailType: ['intervention.recommended'] },
      targets: [new targets.SqsQueue(this.appQueue, { deadLetterQueue: this.undeliveredQueue, retryAttempts: 8, maxEventAge: Duration.hours(1) })],
    });
    // The bus by ARN, which EventBusName takes as well as the name: moto's CloudFormation resolves a
    // Ref of a bus to the bus itself, not its name, and fails the rule (npm run rehearse).
    (this.exampleRule.node.defaultChild as events.CfnRule).eventBusName = this.bus.eventBusArn;
  }

  /** INTERVENTION_BUS_NAME and events:PutEvents on this bus only. */
  bindTo(fn: HouseFunction): void {
    fn.addEnvironment('INTERVENTION_BUS_NAME', this.bus.eventBusName);
    this.bus.grantPutEventsTo(fn);
  }
}
