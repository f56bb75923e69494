import { Match, type Template } from 'aws-cdk-lib/assertions';
import { DELIVERY_ENV } from '../../lib/alerting';
import type { AnalyticsStack } from '../../lib/analytics-stack';
import { HouseFunction } from '../../lib/house-function';
import { ALERT_EMAIL_TEMPLATE } from '../../functions/domain/alerting/message';
import { logicalIdOf, nagFindings, synthStack } from './synth';

const EMAIL_CONTEXT = {
  alertEmail: 'oncall@example.org',
  alertPhone: '+447700900123',
  escalationEmail: 'second-line@example.org',
  escalationPhone: '+447700900456',
  alertEmailFrom: 'alerts@example.org',
  alertEmailTo: 'clinician-a@example.org, clinician-b@example.org',
};

/** A function granted delivery, as the monitoring construct's detect function will be. */
function withDeliverer(stack: AnalyticsStack): void {
  const fn = new HouseFunction(stack, 'DeliverProbe', {
    handler: 'ingest',
    logRetention: stack.settings.logRetentionDays,
    outsideVpcReason: 'A probe of the delivery grants: it reaches SNS and SES only, both public AWS endpoints.',
  });
  stack.alerting.bindTo(fn);
}

function probeOf(template: Template): { id: string; properties: Record<string, any> } {
  const id = logicalIdOf(template, 'AWS::Lambda::Function', 'DeliverProbe');
  return { id, properties: template.toJSON().Resources[id].Properties };
}

function probePolicyStatements(template: Template): Record<string, any>[] {
  const role = probeOf(template).properties.Role['Fn::GetAtt'][0] as string;
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
  );
  return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Record<string, any>[]);
}

describe('alerting', () => {
  const { template, app } = synthStack(EMAIL_CONTEXT, { extend: withDeliverer });
  const critical = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingCriticalTopic');
  const warning = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingWarningTopic');
  const escalation = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingEscalationTopic');
  const clinician = logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingClinicianTopic');

  it('subscribes the e-mail from context to both topics and the phone to critical only, and the secondary on-call to escalations', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 5);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'second-line@example.org', TopicArn: { Ref: escalation } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sms', Endpoint: '+447700900456', TopicArn: { Ref: escalation } });
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'Analytics escalation', KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org', TopicArn: { Ref: critical } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org', TopicArn: { Ref: warning } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sms', Endpoint: '+447700900123', TopicArn: { Ref: critical } });
  });

  it('creates no subscription and no sender without context, but still the template', () => {
    const bare = synthStack().template;

    bare.resourceCountIs('AWS::SNS::Subscription', 0);
    bare.resourceCountIs('AWS::SES::EmailIdentity', 0);
    bare.resourceCountIs('AWS::SES::Template', 1);
  });

  it('stores the alert e-mail template the SES channel fills', () => {
    template.hasResourceProperties('AWS::SES::Template', {
      Template: { SubjectPart: ALERT_EMAIL_TEMPLATE.subjectPart, TextPart: ALERT_EMAIL_TEMPLATE.textPart, HtmlPart: ALERT_EMAIL_TEMPLATE.htmlPart },
    });
    expect(ALERT_EMAIL_TEMPLATE.htmlPart).toContain('href="{{dashboardUrl}}"');
  });

  it('creates the sender identity from context', () => {
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'alerts@example.org' });
  });

  it('gives a delivering function the topics, template, sender and recipients', () => {
    const template_ = logicalIdOf(template, 'AWS::SES::Template', 'AlertingEmailTemplate');

    expect(probeOf(template).properties.Environment.Variables).toMatchObject({
      [DELIVERY_ENV.criticalTopicArn]: { Ref: critical },
      [DELIVERY_ENV.warningTopicArn]: { Ref: warning },
      [DELIVERY_ENV.escalationTopicArn]: { Ref: escalation },
      [DELIVERY_ENV.clinicianTopicArn]: { Ref: clinician },
      [DELIVERY_ENV.emailTemplate]: { Ref: template_ },
      [DELIVERY_ENV.emailFrom]: { Ref: logicalIdOf(template, 'AWS::SES::EmailIdentity', 'AlertingSender') },
      [DELIVERY_ENV.emailTo]: 'clinician-a@example.org,clinician-b@example.org',
    });
  });

  it('grants Publish on the four topics, the key for them, and the templated send on sender and template only', () => {
    const statements = probePolicyStatements(template);
    const key = logicalIdOf(template, 'AWS::KMS::Key', 'AlertingKey');

    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Effect: 'Allow', Resource: [{ Ref: critical }, { Ref: warning }, { Ref: escalation }, { Ref: clinician }] }));
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [key, 'Arn'] } }));
    const send = statements.find((s) => Array.isArray(s.Action) && s.Action.includes('ses:SendTemplatedEmail'));
    expect(send!.Action).toEqual(['ses:SendTemplatedEmail', 'ses:SendEmail']);
    expect(send!.Resource.map((r: any) => r['Fn::Join'][1].slice(-2))).toEqual([
      [':identity/', { Ref: logicalIdOf(template, 'AWS::SES::EmailIdentity', 'AlertingSender') }],
      [':template/', { Ref: logicalIdOf(template, 'AWS::SES::Template', 'AlertingEmailTemplate') }],
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/"(sns|ses|kms):\*"|GenerateDataKey\*/);
  });

  it('grants no e-mail and sets no e-mail variables when no sender is configured', () => {
    const bare = synthStack({}, { extend: withDeliverer }).template;

    expect(Object.keys(probeOf(bare).properties.Environment.Variables)).not.toContain(DELIVERY_ENV.emailTemplate);
    expect(JSON.stringify(probePolicyStatements(bare))).not.toContain('ses:');
    bare.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [DELIVERY_ENV.criticalTopicArn]: Match.anyValue() }) },
    });
  });

  it('leaves no cdk-nag finding on the alerting resources or the delivery grants', () => {
    const all = nagFindings(app);
    const ours = all.filter((line) => / at AnalyticsStack\/(Alerting|DeliverProbe\/ServiceRole)\//.test(line));

    expect(ours).toEqual([]);
    // The probe itself is no real function (no DLQ, no reserved concurrency): its findings show the filter sees its paths.
    expect(all.some((line) => line.includes(' at AnalyticsStack/DeliverProbe/Resource'))).toBe(true);
  });
});
