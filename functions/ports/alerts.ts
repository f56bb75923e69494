import type { Alert, AlertState, AlertStatus, NotificationKind, NotificationStatus } from '../domain/alerting/alert';
import type { Channel, Routing, Severity } from '../domain/alerting/model';
import type { RecipientPreferences } from '../domain/alerting/recipient';
import type { Silence, SilenceMatcher } from '../domain/alerting/silence';

/** A firing transition as the store takes it: the alert to open, or the open one to refresh. */
export interface FiringAlert {
  /** Used only when no alert of the fingerprint is open. */
  readonly id: string;
  readonly fingerprint: string;
  readonly rule: string;
  readonly severity: Severity;
  readonly subject: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly summary: string;
  readonly routing: Routing;
  readonly at: Date;
}

/** One channel's outcome of a claimed notification. */
export interface NotificationOutcome {
  readonly channel: Channel;
  readonly status: NotificationStatus;
  readonly attempts: number;
  readonly at: Date;
  readonly error?: string;
}

/**
 * The right to send one notification of one alert, won by exactly one caller. `expected` is the
 * alert's `lastNotifiedAt` (firing, repeat) or `escalatedAt` (escalation) as the caller read it:
 * the claim is a compare-and-set on it, so of callers that read the same state only one wins.
 */
export interface NotificationClaim {
  readonly notificationId: string;
  readonly alertId: string;
  readonly kind: Exclude<NotificationKind, 'resolved'>;
  readonly expected: Date | undefined;
  readonly at: Date;
}

/**
 * A claim whose outcome never came within the lease: its sender crashed or stalled. One not
 * `begun` (nothing was sent) is taken over by `retake`; one begun may have gone out, and is
 * recorded as `unknown` rather than sent again.
 */
export interface StaleClaim {
  readonly notificationId: string;
  readonly kind: NotificationKind;
  readonly alert: AlertState;
  readonly begun: boolean;
}

export interface Resolution {
  readonly fingerprint: string;
  /** When the condition stopped holding. */
  readonly at: Date;
  /** The id of the 'resolved' notification, should one be claimed. */
  readonly notificationId: string;
  /** The claim's time, which staleness is measured from. */
  readonly now: Date;
}

export interface AlertQuery {
  /** Only the alerts of this clinician's caseload: what a clinician's token may see. */
  readonly caseloadOf?: string;
  readonly status?: AlertStatus;
  readonly severity?: Severity;
  readonly limit?: number;
  /** Only alerts that started before this instant: the next page after the last one seen. */
  readonly before?: Date;
}

/**
 * An alert as an operational report counts it: its rule, severity and times, and nothing of whom
 * it concerns (no subject, labels or summary).
 */
export interface AlertTiming {
  readonly rule: string;
  readonly severity: Severity;
  readonly status: AlertStatus;
  readonly startsAt: Date;
  readonly acknowledgedAt?: Date;
  readonly resolvedAt?: Date;
  readonly escalatedAt?: Date;
}

export interface AlertStore {
  /** Opens the alert of the fingerprint, or refreshes the open one (summary, labels, routing, updatedAt). */
  upsertFiring(alert: FiringAlert): Promise<AlertState>;
  /**
   * Resolves the open alert of the fingerprint. Only the caller that resolved it gets it back;
   * when it had been notified (not only silenced), the same transaction claims its 'resolved'
   * notification as `resolvedNotificationId`.
   */
  resolve(resolution: Resolution): Promise<{ alert: AlertState; resolvedNotificationId?: string } | undefined>;
  claim(claim: NotificationClaim): Promise<boolean>;
  /**
   * The fence before a send: of the notifications, those still claimed at `claimedAt` (the time
   * their holder claimed or retook them) and not begun, now marked begun at `at`. A holder that
   * stalled past its lease finds its claims retaken and sends nothing.
   */
  begin(notificationIds: readonly string[], claimedAt: Date, at: Date): Promise<string[]>;
  /** Records the outcomes of a claimed notification; the first record wins, over an `unknown` one too. */
  record(notificationId: string, outcomes: readonly NotificationOutcome[]): Promise<void>;
  /**
   * Claims with no outcome claimed (or begun) before `claimedBefore`: begun ones all, others when
   * their notification still makes sense.
   */
  staleClaims(claimedBefore: Date, limit: number): Promise<StaleClaim[]>;
  /** Takes a stale claim that was not begun over; of concurrent callers one wins. */
  retake(notificationId: string, claimedBefore: Date, at: Date): Promise<boolean>;
  /**
   * Per subject key, an open (firing or acknowledged) critical alert of it, should it have one:
   * what inhibits its lesser alerts' notifications.
   */
  openCritical(subjects: readonly string[]): Promise<Map<string, string>>;
  /** Notes that `inhibitor` held the alert's notifications back. */
  inhibit(alertId: string, inhibitor: string): Promise<void>;
  /** Per subject key in a caseload, the clinicians who look after it, in id order; a subject in none is absent. */
  cliniciansOf(subjects: readonly string[]): Promise<Map<string, string[]>>;
  /** Open alerts with status firing, oldest first: the ones a tick may notify. */
  firing(limit: number): Promise<AlertState[]>;
  /** 'resolved' when the alert is resolved; an acknowledged alert is answered as it is. */
  acknowledge(id: string, actor: string, at: Date, caseloadOf?: string): Promise<Alert | 'resolved' | undefined>;
  /** Undefined for an alert outside `caseloadOf`'s caseload, where given. */
  get(id: string, caseloadOf?: string): Promise<Alert | undefined>;
  /** Newest first (by startsAt). */
  list(query: AlertQuery): Promise<Alert[]>;
  /** Deletes the alerts (and their notifications) of a subject key; answers how many alerts. */
  eraseSubject(subject: string): Promise<number>;
  /** Retention: deletes the alerts resolved before `cutoff`, their notifications with them; answers how many alerts. */
  purgeResolvedBefore(cutoff: Date): Promise<number>;
  /** The alerts that started in [from, to), oldest first, as their timings: every one, unpaged. */
  timings(from: Date, to: Date): Promise<AlertTiming[]>;
}

/** An alert for a recipient's next digest; a recipient new to digests gets theirs at `nextDigestAt`. */
export interface DigestEntry {
  readonly recipient: string;
  readonly alertId: string;
  readonly nextDigestAt: Date;
}

/** A recipient whose digest was due at `dueAt`. */
export interface DueDigest {
  readonly recipient: string;
  readonly dueAt: Date;
}

/**
 * The second tier: recipients' preferences, their warning pages against the day's cap, and what
 * waits for their digest. Recipients are clinician ids and `ON_CALL`.
 */
export interface RecipientStore {
  /** Per recipient with preferences stored; the others are absent (they have the defaults). */
  preferencesOf(recipients: readonly string[]): Promise<Map<string, RecipientPreferences>>;
  /** Stores a recipient's preferences, their next digest moved to `nextDigestAt`. */
  setPreferences(recipient: string, preferences: RecipientPreferences, nextDigestAt: Date, at: Date): Promise<void>;
  /** One warning page of the recipient's local `day`, taken only while fewer than `cap` were: false once the cap is reached. */
  takeWarningPage(recipient: string, day: string, cap: number): Promise<boolean>;
  /** Puts alerts in recipients' next digests; an alert that a digest already took goes in again. */
  queueForDigest(entries: readonly DigestEntry[], at: Date): Promise<void>;
  /** Recipients whose next digest is due at `now`, the longest due first. */
  dueDigests(now: Date, limit: number): Promise<DueDigest[]>;
  /**
   * Claims a due digest: moves the recipient's next digest from `due.dueAt` to `next` (of callers
   * that read the same due time one wins; the others get undefined) and takes the alerts queued
   * for it by then, as the digest `digestId`.
   */
  claimDigest(due: DueDigest, next: Date, digestId: string): Promise<AlertState[] | undefined>;
  /** What became of a claimed digest, and how many alerts it listed. */
  recordDigest(digestId: string, status: 'delivered' | 'undelivered' | 'empty', alerts: number, at: Date): Promise<void>;
  /** Retention: digests due and warning-page counts of days before `cutoff`; answers how many rows. */
  purgeBefore(cutoff: Date): Promise<number>;
}

export interface NewSilence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly comment: string;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export interface SilenceStore {
  add(silence: NewSilence): Promise<Silence>;
  /** Silences not ended by `now` or ended in the week before it, newest first: what an operator reviews. */
  list(now: Date): Promise<Silence[]>;
  /** Those in force at `at`. */
  active(at: Date): Promise<Silence[]>;
  /** Ends the silence at `at` (if it has not ended yet); false when there is no such silence. */
  expire(id: string, actor: string, at: Date): Promise<boolean>;
  /** Deletes silences with an equality matcher on the subject key; answers how many. */
  eraseSubject(subject: string): Promise<number>;
}
