import { createHash } from 'node:crypto';
import { z } from 'zod';
import { boundedInstant } from '../api/input-bounds';
import { SEVERITIES, subjectKey, type AlertMessage, type Channel, type RuleRef, type Routing, type Severity, type Subject } from './model';

export const ALERT_STATUSES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** The query of `GET /v1/alerts`; `before` is the `startsAt` of the last alert of the previous page. */
export const alertQuerySchema = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: boundedInstant
    .transform((text) => new Date(text))
    .optional()
    .meta({ description: 'Only alerts that started before this instant: the `startsAt` of the last alert of the previous page.' }),
});
/** The notifications of one alert; a digest is of a recipient, not of an alert. */
export type NotificationKind = Exclude<AlertMessage['kind'], 'digest'>;

/**
 * What became of one channel of a notification. `unknown`: its sender began sending and was not
 * heard from again within the claim's lease (a crash or a stall mid-send), so it may have gone out;
 * it is not sent again, and the sender's own outcome replaces it should it come after all.
 * `inhibited`: held back, as its user had an open critical alert (the alert's `inhibitedBy`).
 * `queued`: in its recipients' next digest (the rule's `digest` channel). `deferred`: a warning's
 * page held back by its recipient's quiet hours or daily cap, and queued for their digest.
 */
export const NOTIFICATION_STATUSES = ['delivered', 'undelivered', 'silenced', 'unknown', 'inhibited', 'queued', 'deferred'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** One channel's part of one notification, as `GET /v1/alerts` shows it. */
export interface AlertNotification {
  readonly kind: NotificationKind;
  readonly channel: Channel;
  readonly status: NotificationStatus;
  readonly attempts: number;
  readonly at: string;
  readonly error?: string;
}

/** An item of `GET /v1/alerts`. `subject` is a subject key (`user:<pseudonym>`), never a raw id. */
export interface Alert extends AlertCore {
  readonly startsAt: string;
  readonly updatedAt: string;
  readonly resolvedAt?: string;
  readonly acknowledgedBy?: string;
  readonly acknowledgedAt?: string;
  readonly escalatedAt?: string;
  /** The open critical alert of the same user that held this one's notifications back. */
  readonly inhibitedBy?: string;
  /** The open lesser alerts of the same user this one held back: listed under it. */
  readonly inhibits?: readonly string[];
  /** A user alert of someone in no clinician's caseload: only the on-call route has it. */
  readonly unassigned?: true;
  readonly notifications: readonly AlertNotification[];
}

/** What an alert is, whether people read it or the lifecycle decides on it. */
export interface AlertCore {
  readonly id: string;
  readonly rule: string;
  readonly severity: Severity;
  readonly status: AlertStatus;
  readonly subject: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly summary: string;
}

/** What the lifecycle decides on: an alert with the routing of its rule and its last notification. */
export interface AlertState extends AlertCore {
  readonly fingerprint: string;
  readonly routing: Routing;
  readonly startsAt: Date;
  /** When the last firing or repeat notification was claimed; undefined: never notified. */
  readonly lastNotifiedAt?: Date;
  readonly escalatedAt?: Date;
}

/** Stable across invocations and deploys: the identity of "this rule, about this subject". */
export function fingerprint(ruleId: string, subject: Subject): string {
  return createHash('sha256').update(`${ruleId}\n${subjectKey(subject)}`, 'utf8').digest('hex').slice(0, 32);
}

/** The labels silences match and groups are made of; `rule`, `severity` and `subject` win over a rule's own. */
export function alertLabels(rule: RuleRef, subject: Subject): Record<string, string> {
  return { ...rule.labels, rule: rule.id, severity: rule.severity, subject: subjectKey(subject) };
}

/**
 * Alertmanager's group key: the values of the `groupBy` labels, in name order, a missing label
 * being empty. No `groupBy`: every alert of the route in one group.
 */
export function groupKey(labels: Readonly<Record<string, string>>, groupBy: readonly string[]): string {
  const names = [...new Set(groupBy)].sort();
  return `{${names.map((name) => `${name}=${JSON.stringify(labels[name] ?? '')}`).join(',')}}`;
}

/**
 * Alerts notify together only when one message can carry them: the same group key, severity and
 * channels. The answer is an opaque bucket id.
 */
export function notificationBucket(alert: Pick<AlertState, 'labels' | 'severity' | 'routing'>): string {
  return `${alert.severity}|${[...alert.routing.channels].sort().join(',')}|${groupKey(alert.labels, alert.routing.groupBy)}`;
}

/** A firing alert is notified again once its repeat interval has passed since the last notification. */
export function isRepeatDue(alert: Pick<AlertState, 'status' | 'lastNotifiedAt' | 'routing'>, now: Date): boolean {
  if (alert.status !== 'firing' || alert.lastNotifiedAt === undefined) return false;
  return now.getTime() - alert.lastNotifiedAt.getTime() >= alert.routing.repeatIntervalSec * 1000;
}

/** An unacknowledged critical alert is escalated once, `escalateAfterSec` after it started. */
export function isEscalationDue(alert: Pick<AlertState, 'status' | 'severity' | 'startsAt' | 'escalatedAt' | 'routing'>, now: Date): boolean {
  const after = alert.routing.escalateAfterSec;
  if (after === undefined || alert.status !== 'firing' || alert.severity !== 'critical' || alert.escalatedAt !== undefined) return false;
  return now.getTime() - alert.startsAt.getTime() >= after * 1000;
}

/** One message for alerts of one bucket; the e-mail links to the first alert's page. */
export function alertMessage(kind: AlertMessage['kind'], alerts: readonly AlertState[], dashboardUrl: string): AlertMessage {
  const first = alerts[0];
  if (first === undefined) throw new Error('a message needs at least one alert');
  return {
    kind,
    severity: first.severity,
    groupKey: groupKey(first.labels, first.routing.groupBy),
    alerts: alerts.map((alert) => ({ id: alert.id, rule: alert.rule, subject: alert.subject, startsAt: alert.startsAt.toISOString(), summary: alert.summary })),
    dashboardUrl: `${dashboardUrl}/alerts/${first.id}`,
  };
}

/** Groups items by their alert's notification bucket, keeping input order within each. */
export function groupForNotification<T>(items: readonly T[], alertOf: (item: T) => AlertState): T[][] {
  const buckets = new Map<string, T[]>();
  for (const item of items) {
    const key = notificationBucket(alertOf(item));
    const bucket = buckets.get(key);
    if (bucket) bucket.push(item);
    else buckets.set(key, [item]);
  }
  return [...buckets.values()];
}
