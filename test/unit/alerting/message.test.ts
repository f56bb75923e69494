import {
  ALERT_EMAIL_TEMPLATE,
  emailTemplateData,
  LISTED_ALERTS,
  smsText,
  snsPublication,
  SMS_TARGET_LENGTH,
  subjectLine,
  SUBJECT_MAX_LENGTH,
} from '../../../functions/domain/alerting/message';
import type { AlertMessage } from '../../../functions/domain/alerting/model';

const PSEUDONYM = 'a'.repeat(64);
const DASHBOARD = 'https://dashboard.example.org/alerts/0b6f9a9e-4c1d-4f6a-9a57-2f1f3c1f7e10';

function alert(n: number, rule = 'crisis-signal') {
  return {
    id: `0b6f9a9e-4c1d-4f6a-9a57-${String(n).padStart(12, '0')}`,
    rule,
    subject: `user:${PSEUDONYM}`,
    startsAt: '2026-11-20T10:00:00.000Z',
    summary: `crisis signal of severity imminent (${n})`,
  };
}

function message(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return { kind: 'firing', severity: 'critical', groupKey: 'rule=crisis-signal', alerts: [alert(1)], dashboardUrl: DASHBOARD, ...overrides };
}

describe('smsText', () => {
  it('names severity, rule, count, the alert id prefix and the dashboard link within one SMS', () => {
    const text = smsText(message());

    expect(text).toBe(`CRITICAL firing: crisis-signal x1 #0b6f9a9e ${DASHBOARD}`);
    expect(text.length).toBeLessThan(SMS_TARGET_LENGTH);
  });

  it('leaves the pseudonym out and stays short with many alerts, rules and a long rule id', () => {
    const alerts = [alert(1, 'r'.repeat(80)), ...Array.from({ length: 30 }, (_, i) => alert(i + 2, 'phq9-item9'))];
    const text = smsText(message({ kind: 'escalation', alerts }));

    expect(text).not.toContain(PSEUDONYM);
    expect(text).toContain('ESCALATED');
    expect(text).toContain('x31');
    expect(text).toContain(DASHBOARD);
    expect(text.length).toBeLessThan(SMS_TARGET_LENGTH);
  });

  it('says resolved on a resolved notification', () => {
    expect(smsText(message({ kind: 'resolved', severity: 'warning' }))).toMatch(/^WARNING resolved: /);
  });
});

describe('subjectLine', () => {
  it('stays under the SNS limit in printable ASCII whatever the rule ids', () => {
    const subject = subjectLine(message({ alerts: [alert(1, `régle-${'x'.repeat(150)}\n`)] }));

    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX_LENGTH);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('snsPublication', () => {
  it('is a JSON message with default, sms and email variants and a subject', () => {
    const publication = snsPublication(message({ alerts: [alert(1), alert(2)] }));
    const variants = JSON.parse(publication.Message) as Record<string, string>;

    expect(publication.MessageStructure).toBe('json');
    expect(publication.Subject).toBe('[CRITICAL] crisis-signal firing (2 alerts)');
    expect(Object.keys(variants).sort()).toEqual(['default', 'email', 'sms']);
    expect(variants.sms).toBe(smsText(message({ alerts: [alert(1), alert(2)] })));
    expect(variants.email).toContain(`- crisis-signal on user:${PSEUDONYM} since 2026-11-20T10:00:00.000Z (alert ${alert(2).id}): ${alert(2).summary}`);
    expect(variants.email).toContain(`Open the dashboard: ${DASHBOARD}`);
    expect(variants.default).toBe(variants.email);
  });

  it('lists the first alerts of a large group and counts the rest', () => {
    const alerts = Array.from({ length: LISTED_ALERTS + 5 }, (_, i) => alert(i));
    const { email } = JSON.parse(snsPublication(message({ alerts })).Message) as Record<string, string>;

    expect(email!.match(/^- /gm)).toHaveLength(LISTED_ALERTS);
    expect(email).toContain('and 5 more in the dashboard');
  });
});

describe('emailTemplateData', () => {
  it('carries the subject, headline, per-alert lines and the dashboard link, and nothing else', () => {
    expect(emailTemplateData(message())).toEqual({
      subject: '[CRITICAL] crisis-signal firing (1 alert)',
      headline: 'CRITICAL alert firing: 1 alert',
      severity: 'critical',
      kind: 'firing',
      alerts: [alert(1)],
      more: 0,
      dashboardUrl: DASHBOARD,
    });
  });

  it('fills every placeholder the template uses', () => {
    const data = emailTemplateData(message()) as unknown as Record<string, unknown>;
    const alertFields = Object.keys(alert(1));
    const template = Object.values(ALERT_EMAIL_TEMPLATE).join('\n');
    const placeholders = [...template.matchAll(/\{\{(?![#/])([a-zA-Z]+)\}\}/g)].map((m) => m[1]!);

    expect(placeholders.length).toBeGreaterThan(0);
    for (const name of placeholders) expect(name in data || alertFields.includes(name)).toBe(true);
  });
});

describe('every rendering', () => {
  it('prints only the fields it is given: a value riding on the message object reaches no payload', () => {
    const canary = 'canary.person@example.org +447700900123';
    const carrier = { ...message(), email: canary, alerts: [{ ...alert(1), userId: canary, text: canary }], extra: { canary } };

    const payloads = [smsText(carrier), subjectLine(carrier), JSON.stringify(snsPublication(carrier)), JSON.stringify(emailTemplateData(carrier))];

    for (const payload of payloads) expect(payload).not.toContain('canary');
  });
});
