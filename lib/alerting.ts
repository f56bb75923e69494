import { Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ALERT_EMAIL_TEMPLATE } from '../functions/domain/alerting/message';
import type { FunctionBinding, HouseFunction } from './house-function';
import { customerManagedKey } from './keys';

export interface AlertingProps {
  readonly alertEmail?: string;
  readonly alertPhone?: string;
  /** The secondary on-call, whom escalations page (e-mail and SMS); unset, the topic has no subscriber to add by hand. */
  readonly escalationEmail?: string;
  readonly escalationPhone?: string;
  /** The sender of the critical alert e-mail; with `alertEmailTo`, turns that e-mail on. */
  readonly alertEmailFrom?: string;
  readonly alertEmailTo?: readonly string[];
  readonly removalPolicy: RemovalPolicy;
}

/** The variables `bindTo` sets, for the function's configuration schema to read. */
export const DELIVERY_ENV = {
  criticalTopicArn: 'ALERT_TOPIC_CRITICAL_ARN',
  warningTopicArn: 'ALERT_TOPIC_WARNING_ARN',
  escalationTopicArn: 'ALERT_TOPIC_ESCALATION_ARN',
  clinicianTopicArn: 'ALERT_TOPIC_CLINICIAN_ARN',
  emailTemplate: 'ALERT_EMAIL_TEMPLATE',
  emailFrom: 'ALERT_EMAIL_FROM',
  emailTo: 'ALERT_EMAIL_TO',
} as const;

/**
 * Where alerts go: `critical` pages a person (SMS and e-mail), `warning` is e-mail only,
 * `escalation` pages the secondary on-call with the alerts nobody acknowledged; a critical alert
 * is also e-mailed through SES from a template that links to the dashboard. The alerts of a user
 * in a clinician's caseload go to `clinician` instead, each message carrying the clinician's id
 * in the attribute `clinician`: each clinician's subscriptions (SMS, e-mail) are added with the
 * filter policy `{"clinician": ["<id>"]}`, so they get their own users' alerts only, and no
 * clinician's phone or address is kept in this product's stores.
 */
export class Alerting extends Construct implements FunctionBinding {
  readonly key: kms.Key;
  readonly criticalTopic: sns.Topic;
  readonly warningTopic: sns.Topic;
  readonly escalationTopic: sns.Topic;
  readonly clinicianTopic: sns.Topic;
  readonly emailTemplate: ses.CfnTemplate;
  /** The SES template's name, as SendTemplatedEmail takes it. */
  readonly templateName: string;
  /** The verified sender, when context names one (`alertEmailFrom`). */
  readonly senderIdentity?: ses.EmailIdentity;
  private readonly emailTo?: readonly string[];

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

    this.escalationTopic = new sns.Topic(this, 'EscalationTopic', {
      displayName: 'Analytics escalation',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.clinicianTopic = new sns.Topic(this, 'ClinicianTopic', {
      displayName: 'Analytics caseload',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.escalationEmail !== undefined) this.escalationTopic.addSubscription(new subscriptions.EmailSubscription(props.escalationEmail));
    if (props.escalationPhone !== undefined) this.escalationTopic.addSubscription(new subscriptions.SmsSubscription(props.escalationPhone));

    if (props.alertEmail !== undefined) {
      this.criticalTopic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
      this.warningTopic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
    }
    if (props.alertPhone !== undefined) {
      // Warnings by SMS would train people to ignore the pages that matter.
      this.criticalTopic.addSubscription(new subscriptions.SmsSubscription(props.alertPhone));
    }

    // The template text lives beside the renderer that fills it, so the stack and the emulated
    // mode (ensureAlertTemplate) create the same one.
    this.emailTemplate = new ses.CfnTemplate(this, 'EmailTemplate', {
      template: {
        subjectPart: ALERT_EMAIL_TEMPLATE.subjectPart,
        textPart: ALERT_EMAIL_TEMPLATE.textPart,
        htmlPart: ALERT_EMAIL_TEMPLATE.htmlPart,
      },
    });
    this.templateName = this.emailTemplate.ref;

    if ((props.alertEmailFrom === undefined) !== (props.alertEmailTo === undefined)) {
      throw new Error(`${this.node.path}: alertEmailFrom and alertEmailTo go together`);
    }
    if (props.alertEmailFrom !== undefined && props.alertEmailTo !== undefined) {
      this.senderIdentity = new ses.EmailIdentity(this, 'Sender', { identity: ses.Identity.email(props.alertEmailFrom) });
      this.emailTo = props.alertEmailTo;
    }
  }

  /**
   * Sets the function's delivery variables and grants what the SNS and SES channels call: Publish
   * on the four topics with the key's data-key actions (not grantPublish's wildcard GenerateDataKey*),
   * and, when the e-mail is configured, the templated send from the sender with this template.
   */
  bindTo(fn: HouseFunction): void {
    fn.addEnvironment(DELIVERY_ENV.criticalTopicArn, this.criticalTopic.topicArn);
    fn.addEnvironment(DELIVERY_ENV.warningTopicArn, this.warningTopic.topicArn);
    fn.addEnvironment(DELIVERY_ENV.escalationTopicArn, this.escalationTopic.topicArn);
    fn.addEnvironment(DELIVERY_ENV.clinicianTopicArn, this.clinicianTopic.topicArn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sns:Publish'],
        resources: [this.criticalTopic.topicArn, this.warningTopic.topicArn, this.escalationTopic.topicArn, this.clinicianTopic.topicArn],
      }),
    );
    this.key.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');

    if (this.senderIdentity === undefined || this.emailTo === undefined) return;
    fn.addEnvironment(DELIVERY_ENV.emailTemplate, this.templateName);
    fn.addEnvironment(DELIVERY_ENV.emailFrom, this.senderIdentity.emailIdentityName);
    fn.addEnvironment(DELIVERY_ENV.emailTo, this.emailTo.join(','));
    const templateArn = Stack.of(this).formatArn({ service: 'ses', resource: 'template', resourceName: this.templateName });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendTemplatedEmail', 'ses:SendEmail'],
        resources: [this.senderIdentity.emailIdentityArn, templateArn],
      }),
    );
  }
}
