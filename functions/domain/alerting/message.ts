/**
 * How an `AlertMessage` reads on each channel. Every renderer picks the fields it prints by name
 * and never spreads the message, so whatever else travels on the object at run time cannot reach
 * a payload: the only variable text is rule ids, pseudonymous subjects, alert ids, times, the
 * summaries our own rules wrote and the dashboard link.
 */
import type { AlertMessage, Severity } from './model';

/** A page is read on a lock screen: one SMS segment where the link allows. */
export const SMS_TARGET_LENGTH = 140;
/** SNS refuses a Subject of 100 characters or more. */
export const SUBJECT_MAX_LENGTH = 99;
/** A group can hold many alerts; a page or an e-mail lists the first ones and counts the rest. */
export const LISTED_ALERTS = 20;
const ALERT_ID_PREFIX = 8;
const MIN_RULE_IN_SMS = 12;

const KIND_WORDS: Record<AlertMessage['kind'], string> = {
  firing: 'firing',
  repeat: 'still firing',
  resolved: 'resolved',
  escalation: 'ESCALATED',
  digest: 'worklist digest',
};

const SEVERITY_WORDS: Record<Severity, string> = { critical: 'CRITICAL', warning: 'WARNING' };

/** The SMS of a page: severity, what happened, how many, which alert, where to look. */
export function smsText(message: AlertMessage): string {
  const first = message.alerts[0];
  const id = first === undefined ? '' : ` #${first.id.slice(0, ALERT_ID_PREFIX)}`;
  const head = `${SEVERITY_WORDS[message.severity]} ${KIND_WORDS[message.kind]}: `;
  const tail = ` x${message.alerts.length}${id} ${message.dashboardUrl}`;
  // The link is cut last: a page without a working link is worth less than one over a segment.
  const room = Math.max(MIN_RULE_IN_SMS, SMS_TARGET_LENGTH - 1 - head.length - tail.length);
  return `${head}${clip(rulesOf(message), room)}${tail}`;
}

/** One line for a subject line or an SNS Subject: printable ASCII only, under SNS's limit. */
export function subjectLine(message: AlertMessage): string {
  const text = `[${SEVERITY_WORDS[message.severity]}] ${rulesOf(message)} ${KIND_WORDS[message.kind]} (${countOf(message)})`;
  // SNS takes ASCII without control characters in a Subject; rule ids are ours, but a bad one must not lose the page.
  return clip(text.replace(/[^\x20-\x7e]/g, '?'), SUBJECT_MAX_LENGTH);
}

export interface SnsPublication {
  readonly Subject: string;
  readonly Message: string;
  readonly MessageStructure: 'json';
}

/**
 * One publication per message: SMS subscribers get the short text, e-mail subscribers the list,
 * every other protocol (SQS, HTTPS, Lambda) the default, which is the e-mail text too.
 */
/**
 * The alert topics: one per severity (the on-call's), the secondary on-call's, which escalations
 * page, and the clinicians', where each clinician's subscriptions take only their own caseload's.
 */
export type AlertTopic = Severity | 'escalation' | 'clinician';

/**
 * Where a message is paged: an escalation is an alert nobody took up on the first page, so it
 * goes to someone else (the secondary on-call), not again to the people who did not answer. The
 * on-call's digest goes to the warning topic, whose subscribers take e-mail only.
 */
export const alertTopicOf = (message: Pick<AlertMessage, 'kind' | 'severity' | 'clinician'>): AlertTopic => {
  if (message.kind === 'escalation') return 'escalation';
  if (message.kind === 'digest' && message.clinician === undefined) return 'warning';
  return message.clinician === undefined ? message.severity : 'clinician';
};

/** The message attribute the clinicians' subscriptions filter on (`{"clinician": ["<id>"]}`). */
export const CLINICIAN_ATTRIBUTE = 'clinician';

/**
 * The `severity` attribute of a clinician's message, which their SMS subscription filters on
 * (`critical` only): a digest's is `digest`, so it reaches their e-mail and never their phone.
 */
export const severityAttribute = (message: Pick<AlertMessage, 'kind' | 'severity'>): string => (message.kind === 'digest' ? 'digest' : message.severity);

export function snsPublication(message: AlertMessage): SnsPublication {
  const long = plainText(message);
  return {
    Subject: subjectLine(message),
    Message: JSON.stringify({ default: long, sms: smsText(message), email: long }),
    MessageStructure: 'json',
  };
}

export interface AlertEmailData {
  readonly subject: string;
  readonly headline: string;
  readonly severity: Severity;
  readonly kind: AlertMessage['kind'];
  readonly alerts: readonly { readonly id: string; readonly rule: string; readonly subject: string; readonly startsAt: string; readonly summary: string }[];
  /** Alerts of the group beyond the listed ones; 0 when all are listed. */
  readonly more: number;
  readonly dashboardUrl: string;
}

/** The values the SES template `ALERT_EMAIL_TEMPLATE` is filled with. */
export function emailTemplateData(message: AlertMessage): AlertEmailData {
  return {
    subject: subjectLine(message),
    headline: `${SEVERITY_WORDS[message.severity]} alert ${KIND_WORDS[message.kind]}: ${countOf(message)}`,
    severity: message.severity,
    kind: message.kind,
    alerts: message.alerts.slice(0, LISTED_ALERTS).map(({ id, rule, subject, startsAt, summary }) => ({ id, rule, subject, startsAt, summary })),
    more: Math.max(0, message.alerts.length - LISTED_ALERTS),
    dashboardUrl: message.dashboardUrl,
  };
}

/**
 * The SES template (Handlebars, which SES fills and HTML-escapes in the HTML part). Kept here
 * beside the data it is filled with, so the stack and the emulated mode create the same one.
 */
export const ALERT_EMAIL_TEMPLATE = {
  subjectPart: '{{subject}}',
  textPart: [
    '{{headline}}',
    '',
    '{{#each alerts}}- {{rule}} on {{subject}} since {{startsAt}} (alert {{id}}): {{summary}}',
    '{{/each}}{{#if more}}and {{more}} more in the dashboard',
    '{{/if}}',
    'Open the dashboard: {{dashboardUrl}}',
  ].join('\n'),
  htmlPart: [
    '<h1>{{headline}}</h1>',
    '<ul>{{#each alerts}}<li><strong>{{rule}}</strong> on <code>{{subject}}</code> since {{startsAt}} (alert <code>{{id}}</code>): {{summary}}</li>{{/each}}</ul>',
    '{{#if more}}<p>and {{more}} more in the dashboard</p>{{/if}}',
    '<p><a href="{{dashboardUrl}}">Open the dashboard</a></p>',
  ].join('\n'),
} as const;

function plainText(message: AlertMessage): string {
  const data = emailTemplateData(message);
  const lines = data.alerts.map((a) => `- ${a.rule} on ${a.subject} since ${a.startsAt} (alert ${a.id}): ${a.summary}`);
  if (data.more > 0) lines.push(`and ${data.more} more in the dashboard`);
  return [data.headline, '', ...lines, '', `Open the dashboard: ${data.dashboardUrl}`].join('\n');
}

/** The distinct rules of the group: usually one, since groups are mostly keyed by rule. */
function rulesOf(message: AlertMessage): string {
  const rules = [...new Set(message.alerts.map((alert) => alert.rule))];
  if (rules.length === 0) return 'no alerts';
  return rules.length === 1 ? rules[0]! : `${rules[0]} +${rules.length - 1} rules`;
}

function countOf(message: AlertMessage): string {
  return message.alerts.length === 1 ? '1 alert' : `${message.alerts.length} alerts`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
