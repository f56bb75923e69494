import { deliveryChannels, deliveryEnv } from '../../../functions/config/lambda';
import { MemoryLiveStore } from '../../../functions/adapters/local/memory-live-store';
import { DELIVERY_ENV } from '../../../lib/alerting';

const TOPICS = {
  ALERT_TOPIC_CRITICAL_ARN: 'arn:aws:sns:eu-west-2:1:critical',
  ALERT_TOPIC_WARNING_ARN: 'arn:aws:sns:eu-west-2:1:warning',
  ALERT_TOPIC_ESCALATION_ARN: 'arn:aws:sns:eu-west-2:1:escalation',
  ALERT_TOPIC_CLINICIAN_ARN: 'arn:aws:sns:eu-west-2:1:clinician',
};
const EMAIL = { ALERT_EMAIL_TEMPLATE: 'AlertTemplate', ALERT_EMAIL_FROM: 'alerts@example.org', ALERT_EMAIL_TO: 'a@example.org,b@example.org' };

describe('deliveryChannels', () => {
  const live = new MemoryLiveStore({ clock: { now: () => new Date() } });

  it('reads every variable the stack sets for a delivering function', () => {
    expect(Object.values(DELIVERY_ENV).sort()).toEqual(Object.keys(deliveryEnv.shape).sort());
  });

  it('answers SNS and the dashboard, and e-mail only when the stack gave a sender', () => {
    expect(deliveryChannels(live, { ...TOPICS }).map((c) => c.channel)).toEqual(['sns', 'dashboard']);
    expect(deliveryChannels(live, { ...TOPICS, ...EMAIL }).map((c) => c.channel)).toEqual(['sns', 'dashboard', 'email']);
  });

  it('stops with the variable named when the topics are missing or the e-mail is half configured', () => {
    expect(() => deliveryChannels(live, {})).toThrow(/ALERT_TOPIC_CRITICAL_ARN/);
    expect(() => deliveryChannels(live, { ...TOPICS, ALERT_EMAIL_FROM: 'alerts@example.org' })).toThrow(/ALERT_EMAIL_FROM: set ALERT_EMAIL_TEMPLATE/);
  });
});
