/**
 * The vocabulary the monitoring parts share. Events and metric series become `Signal`s; the rules
 * engine turns signals (and the passing of time) into `Transition`s of a rule's condition for one
 * subject; the alert manager turns transitions into alerts with a lifecycle and notifications;
 * delivery sends an `AlertMessage` on each of a rule's channels.
 */
import type { Verdict } from '../anomaly/detector';

export const SEVERITIES = ['critical', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Who an alert is about: a pseudonymous user id (64 hex) or a metric series key. Never a raw id. */
export type Subject = { readonly kind: 'user'; readonly id: string } | { readonly kind: 'series'; readonly id: string };

/** The live store list of the dashboard's alert feed of one severity (`LPUSH alerts:critical`). */
export const alertFeedKey = (severity: Severity): string => `alerts:${severity}`;

/** `user:<pseudonym>` or `series:<key>`: the subject as alerts, labels and payloads carry it. */
export const subjectKey = (subject: Subject): string => `${subject.kind}:${subject.id}`;

/**
 * Where a rule's alerts go. `sns`: the topic of the alert's severity (its subscriptions page by
 * SMS and e-mail); `email`: an SES e-mail from the alert template; `dashboard`: the Redis alert
 * list of the severity and the live dashboard's pub/sub channel; `digest`: the worklist tier,
 * the next digest e-mail of each recipient (their clinicians, or the on-call route), at the time
 * they chose. `sns` and `email` page now; a warning's page over its recipient's daily cap or in
 * their quiet hours waits for their digest instead.
 */
export const CHANNELS = ['sns', 'email', 'dashboard', 'digest'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface Routing {
  readonly channels: readonly Channel[];
  /** Alert labels whose values make the group key: alerts of one group notify together. */
  readonly groupBy: readonly string[];
  /** A firing alert is notified again only after this long without an acknowledgement. */
  readonly repeatIntervalSec: number;
  /** An unacknowledged critical alert is escalated after this long; unset: never. */
  readonly escalateAfterSec?: number;
}

/** What the alert manager needs to know of the rule behind a transition. */
export interface RuleRef {
  readonly id: string;
  readonly severity: Severity;
  readonly labels: Readonly<Record<string, string>>;
  readonly routing: Routing;
  /** The rule's action `intervene`, when it has one. */
  readonly intervene?: Intervene;
}

/** What a rule recommends to the app when it fires for a user. */
export interface Intervene {
  readonly interventionType: string;
  readonly urgency: string;
}

/** A value a rule can watch: per user from events, per series (one a minute) from the series watch. */
export interface Signal {
  /** e.g. `crisis.severity`, `phq9.item9`, `events.per_minute`. */
  readonly name: string;
  readonly subject: Subject;
  readonly value: number;
  /** When it happened: the event's `occurredAt`, or the start of the series' minute. */
  readonly at: Date;
  readonly labels: Readonly<Record<string, string>>;
  /** The event it came from: a record delivered twice is the same signal, and counts once. */
  readonly eventId?: string;
  /** When that event reached ingest: what an alert's latency is measured from. */
  readonly receivedAt?: Date;
  /** On series signals judged by an anomaly detector. */
  readonly anomaly?: Verdict & { readonly detector: 'robust_z' | 'seasonal' };
}

/** A rule's condition for one subject started or stopped holding. */
export interface Transition {
  readonly state: 'firing' | 'resolved';
  readonly rule: RuleRef;
  readonly subject: Subject;
  readonly at: Date;
  /** What a person reads first; no PII (a pseudonym at most). */
  readonly summary: string;
  readonly value?: number;
  readonly eventId?: string;
  /** When the event that made it reached ingest; none for series and for the passing of time. */
  readonly receivedAt?: Date;
}

/** One notification of one group of alerts, as every channel renders it. */
export interface AlertMessage {
  /** `digest`: a recipient's worklist alerts of the day, sent at their digest time, never by SMS. */
  readonly kind: 'firing' | 'repeat' | 'resolved' | 'escalation' | 'digest';
  readonly severity: Severity;
  readonly groupKey: string;
  readonly alerts: readonly {
    readonly id: string;
    readonly rule: string;
    readonly subject: string;
    readonly startsAt: string;
    readonly summary: string;
  }[];
  /** The dashboard's page of the (first) alert: where the e-mail links to. */
  readonly dashboardUrl: string;
  /**
   * The clinician whose caseload the alerts are of: the message goes to the clinicians' topic,
   * whose subscriptions (their phone, their e-mail) filter on it. None: the on-call route.
   */
  readonly clinician?: string;
}

export interface DeliveryOutcome {
  readonly channel: Channel;
  readonly status: 'delivered' | 'undelivered';
  readonly attempts: number;
  readonly at: Date;
  /** Why the last attempt failed, when undelivered; no payload content. */
  readonly error?: string;
}
