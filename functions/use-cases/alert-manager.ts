import type { Logger } from '../adapters/log';
import {
  alertLabels,
  alertMessage,
  fingerprint,
  groupForNotification,
  isEscalationDue,
  isRepeatDue,
  type Alert,
  type AlertState,
  type NotificationKind,
} from '../domain/alerting/alert';
import { SEVERITIES, subjectKey, type Channel, type Transition } from '../domain/alerting/model';
import { DEFAULT_PREFERENCES, inQuietHours, localDay, nextDigestAt, ON_CALL, type RecipientPreferences } from '../domain/alerting/recipient';
import { isSilenced, silenceWindow, type Silence, type SilenceInput } from '../domain/alerting/silence';
import type { Clock, Metrics, Sleep } from '../ports';
import { ALERT_LATENCY_METRIC } from '../ports/anomalies';
import { isUnavailable } from '../ports/unavailable';
import type { AlertQuery, AlertStore, DigestEntry, NotificationClaim, NotificationOutcome, RecipientStore, SilenceStore, StaleClaim } from '../ports/alerts';
import type { Deliver } from '../ports/notifications';
import { attempt, doubling } from './retry';

/** A claim not followed by an outcome within this long was lost with its sender, and is taken over. */
const STALE_CLAIM_MS = 60_000;
/**
 * Keeping a sent notification's outcome is retried while the store is unreachable, for well under
 * STALE_CLAIM_MS in all (0.2 + 0.4 + ... + 6.4 s): an outcome lost to a database blip left the
 * claim open, and its retake a minute later paged the same crisis a second time. Recording is
 * idempotent (the first record wins), so a retry whose predecessor did commit changes nothing.
 */
const RECORD_RETRY = { attempts: 7, delayMs: doubling(200), retryable: isUnavailable } as const;
const MAX_LIST = 500;
/** Per tick; the rest waits for the next tick. */
const TICK_BATCH = 1000;

/** Acknowledging a resolved alert: nothing is left to acknowledge (HTTP 409). */
export class AlertResolvedError extends Error {
  constructor(readonly alertId: string) {
    super(`alert ${alertId} is resolved and can no longer be acknowledged`);
    this.name = 'AlertResolvedError';
  }
}

/** A silence whose window the clock refuses: already over, or longer than allowed (HTTP 400). */
export class InvalidSilenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSilenceError';
  }
}

export interface AlertConsoleDeps {
  readonly alerts: AlertStore;
  readonly silences: SilenceStore;
  readonly recipients: RecipientStore;
  readonly clock: Clock;
  readonly newId: () => string;
}

export interface AlertManagerDeps extends AlertConsoleDeps {
  readonly deliver: Deliver;
  readonly sleep: Sleep;
  readonly dashboardUrl: string;
  readonly logger: Logger;
  /** Where each alert's latency from its event's receipt goes (`ALERT_LATENCY_METRIC`). */
  readonly metrics?: Pick<Metrics, 'observe'>;
}

/** What people do with alerts (the API): nothing here notifies, so the API function holds no delivery rights. */
export interface AlertConsole {
  /**
   * Stops repeats and escalation. Throws `AlertResolvedError` for a resolved alert; undefined for
   * one outside `caseloadOf`'s caseload, where given (a clinician acknowledges their users' only).
   */
  acknowledge(id: string, actor: string, caseloadOf?: string): Promise<Alert | undefined>;
  /** Newest first; at most 500, 100 unless told. */
  list(query: AlertQuery): Promise<Alert[]>;
  get(id: string, caseloadOf?: string): Promise<Alert | undefined>;
  readonly silences: {
    list(): Promise<Silence[]>;
    /** Throws `InvalidSilenceError` when the window is over or too long. */
    create(input: SilenceInput, actor: string): Promise<Silence>;
    /** Ends the silence now; false when there is no such silence. */
    expire(id: string, actor: string): Promise<boolean>;
  };
  /** GDPR erasure: the alerts of a subject key and silences naming it; answers how many went. */
  eraseSubject(subjectKey: string): Promise<number>;
  /** A clinician's digest time, quiet hours and warning cap: the defaults until they set theirs. */
  readonly preferences: {
    get(clinicianId: string): Promise<RecipientPreferences>;
    /** Replaces them; the next digest moves to the new time. */
    set(clinicianId: string, preferences: RecipientPreferences): Promise<RecipientPreferences>;
  };
}

export interface AlertManager extends AlertConsole {
  /** Opens, refreshes and resolves alerts from the rules engine's transitions, and notifies. */
  apply(transitions: readonly Transition[]): Promise<void>;
  /** Scheduled: repeats and escalations that are due, and notifications whose sender was lost. */
  tick(): Promise<void>;
}

interface Claimed {
  readonly alert: AlertState;
  readonly notificationId: string;
  /** When the event that opened the alert reached ingest: on a first notification made from it. */
  readonly receivedAt?: Date;
}

/** Each channel's outcome of a notification this sender did not send (or cannot say it sent). */
const unsent = (channels: readonly Channel[], status: 'silenced' | 'inhibited' | 'unknown', at: Date): NotificationOutcome[] =>
  channels.map((channel) => ({ channel, status, attempts: 0, at }));

/** Of one channel's outcomes for several people, the one that tells most of what did not reach them. */
const shortfall = (status: NotificationOutcome['status']): number => (status === 'undelivered' ? 0 : status === 'deferred' ? 1 : 2);

/**
 * One outcome per channel of an alert sent to several people (a user in two caseloads): delivered
 * only if it reached all of them, with the most attempts and the latest time.
 */
function mergeByChannel(outcomes: readonly NotificationOutcome[]): NotificationOutcome[] {
  const merged = new Map<Channel, NotificationOutcome>();
  for (const outcome of outcomes) {
    const seen = merged.get(outcome.channel);
    if (!seen) merged.set(outcome.channel, outcome);
    else {
      const worse = shortfall(seen.status) <= shortfall(outcome.status) ? seen : outcome;
      merged.set(outcome.channel, { ...worse, attempts: Math.max(seen.attempts, outcome.attempts), at: seen.at > outcome.at ? seen.at : outcome.at });
    }
  }
  return [...merged.values()];
}

/** Escalations first: they are the alerts nobody has taken up yet. */
const KIND_ORDER = ['escalation', 'firing', 'repeat', 'resolved'] as const satisfies readonly NotificationKind[];
const noClaims = (): Record<NotificationKind, Claimed[]> => ({ firing: [], repeat: [], escalation: [], resolved: [] });
const add = (claimed: Record<NotificationKind, Claimed[]>, kind: NotificationKind, won: Claimed | undefined): void => {
  if (won) claimed[kind].push(won);
};

export function makeAlertManager(deps: AlertManagerDeps): AlertManager {
  const { alerts, recipients, clock, newId, logger } = deps;

  async function claim(alert: AlertState, kind: NotificationClaim['kind'], expected: Date | undefined, at: Date, receivedAt?: Date): Promise<Claimed | undefined> {
    const notificationId = newId();
    const won = await alerts.claim({ notificationId, alertId: alert.id, kind, expected, at });
    if (!won) return undefined;
    return receivedAt === undefined ? { alert, notificationId } : { alert, notificationId, receivedAt };
  }

  function brokenSilence(silence: Silence, error: unknown): void {
    logger.error('silence could not be evaluated; the alert is notified', { silence: silence.id, error: error instanceof Error ? error.name : 'unknown' });
  }

  /** Silences in force; none when they cannot be read, since a page must not wait on its mute. */
  async function activeSilences(now: Date): Promise<Silence[]> {
    try {
      return await deps.silences.active(now);
    } catch (error) {
      logger.error('silences could not be read; alerts are notified unsilenced', { error: error instanceof Error ? error.name : 'unknown' });
      return [];
    }
  }

  /**
   * Inhibition: per user of the lesser alerts claimed, an open critical alert of the same user,
   * whose page already has someone on it (Alertmanager's inhibit rule on severity). None when they
   * cannot be read, since a notification must not wait on its inhibition.
   */
  const openCriticalOf = (claims: readonly Claimed[]): Promise<Map<string, string>> =>
    perUser(
      claims.filter((c) => c.alert.severity !== 'critical'),
      (subjects) => alerts.openCritical(subjects),
      'open critical alerts could not be read; lesser alerts are notified uninhibited',
    );

  /** A lookup by the claims' users; empty when it fails, logged with what that means: a notification never waits on it. */
  async function perUser<T>(claims: readonly Claimed[], read: (subjects: readonly string[]) => Promise<Map<string, T>>, whenUnread: string): Promise<Map<string, T>> {
    const subjects = claims.filter((c) => c.alert.subject.startsWith('user:')).map((c) => c.alert.subject);
    if (subjects.length === 0) return new Map();
    try {
      return await read(subjects);
    } catch (error) {
      logger.error(whenUnread, { error: error instanceof Error ? error.name : 'unknown' });
      return new Map();
    }
  }

  /** A sent notification's outcomes, kept through a store outage (see RECORD_RETRY). */
  async function recordSent(notificationId: string, outcomes: Parameters<AlertStore['record']>[1]): Promise<void> {
    const recorded = await attempt(RECORD_RETRY, deps.sleep, () => alerts.record(notificationId, outcomes));
    if (!recorded.ok) throw recorded.error;
  }

  /**
   * One message for the unsilenced alerts of one group, claimed at `now`; silenced ones are
   * recorded, not sent. Only the claims still ours when sending begins go out: one retaken while
   * this sender stalled past the lease (a pause, a slow database) is its new holder's to send.
   */
  async function notifyGroup(kind: NotificationKind, claimedGroup: readonly Claimed[], active: readonly Silence[], now: Date): Promise<void> {
    const begun = new Set(await alerts.begin(claimedGroup.map((c) => c.notificationId), now, clock.now()));
    const group = claimedGroup.filter((c) => begun.has(c.notificationId));
    if (group.length < claimedGroup.length) logger.warn('claims retaken before their send began; left to their new holder', { kind, retaken: claimedGroup.length - group.length });
    const first = group[0];
    if (!first) return;
    const channels = first.alert.routing.channels;
    const muted = group.filter((c) => isSilenced(active, c.alert.labels, now, brokenSilence));
    const inhibitors = kind === 'firing' || kind === 'repeat' ? await openCriticalOf(group.filter((c) => !muted.includes(c))) : new Map<string, string>();
    const held = group.filter((c) => !muted.includes(c) && inhibitors.has(c.alert.subject));
    const loud = group.filter((c) => !muted.includes(c) && !held.includes(c));
    await Promise.all([
      ...muted.map((c) => alerts.record(c.notificationId, unsent(channels, 'silenced', now))),
      ...held.map(async (c) => {
        await alerts.inhibit(c.alert.id, inhibitors.get(c.alert.subject)!);
        await alerts.record(c.notificationId, unsent(channels, 'inhibited', now));
      }),
    ]);
    if (loud.length === 0) return;
    let outcomes: Map<Claimed, NotificationOutcome[]>;
    try {
      outcomes = await deliverToRecipients(kind, loud, channels, now);
    } catch (error) {
      // Deliver should never throw; if it does, the claims stay open and a tick takes them over.
      logger.error('delivery threw; left for retake', { kind, alerts: loud.length, error: error instanceof Error ? error.name : 'unknown' });
      return;
    }
    await Promise.all(loud.map((c) => recordSent(c.notificationId, outcomes.get(c)!)));
    loud.forEach((c) => observeLatency(c, outcomes.get(c)!));
    const failed = [...new Set([...outcomes.values()].flat().filter((o) => o.status === 'undelivered').map((o) => o.channel))];
    const fields = { kind, severity: first.alert.severity, alerts: loud.length, silenced: muted.length, undelivered: failed.join(',') };
    if (failed.length > 0) logger.warn('alert notification undelivered', fields);
    else logger.info('alert notification sent', fields);
  }

  /** Per alert and channel it went out on: a message grouping several alerts kept each person waiting as long as their own event's. */
  function observeLatency(claimed: Claimed, outcomes: readonly NotificationOutcome[]): void {
    if (claimed.receivedAt === undefined) return;
    for (const outcome of outcomes) {
      if (outcome.status !== 'delivered') continue;
      deps.metrics?.observe(ALERT_LATENCY_METRIC, outcome.at.getTime() - claimed.receivedAt.getTime(), { channel: outcome.channel, severity: claimed.alert.severity });
    }
  }

  /** The clinicians of the claims' users; none when they cannot be read, so every alert takes the on-call route rather than wait. */
  const cliniciansOf = (claims: readonly Claimed[]): Promise<Map<string, string[]>> =>
    perUser(claims, (subjects) => alerts.cliniciansOf(subjects), 'caseloads could not be read; alerts go to the on-call route');

  /**
   * The notification to the people it is for, answering each claim's outcomes. The alerts of users
   * in a clinician's caseload go to that clinician alone, on the clinicians' topic (their
   * subscriptions there are their SMS and e-mail, so the message stands for both of the rule's
   * paging channels); the rest take the on-call route on the rule's channels; the dashboard has
   * them all once. An escalation goes to the secondary on-call, whoever's the users are. A new
   * alert of a rule with the `digest` channel waits for each recipient's digest, and so does a
   * warning's page in its recipient's quiet hours or over their daily cap.
   */
  async function deliverToRecipients(kind: NotificationKind, loud: readonly Claimed[], channels: readonly Channel[], now: Date): Promise<Map<Claimed, NotificationOutcome[]>> {
    const message = (claims: readonly Claimed[]) => alertMessage(kind, claims.map((c) => c.alert), deps.dashboardUrl);
    const clinicians = kind === 'escalation' ? new Map<string, string[]>() : await cliniciansOf(loud);
    const byRecipient = new Map<string, Claimed[]>();
    for (const c of loud) {
      for (const recipient of clinicians.get(c.alert.subject) ?? [ON_CALL]) {
        const claims = byRecipient.get(recipient) ?? [];
        claims.push(c);
        byRecipient.set(recipient, claims);
      }
    }
    const paging = channels.filter((channel) => channel === 'sns' || channel === 'email');
    const toDigest = channels.includes('digest') && kind === 'firing';
    // Caps and quiet hours are for warnings: a critical page, an escalation and a digest entry know none.
    const limited = paging.length > 0 && kind !== 'escalation' && loud[0]!.alert.severity !== 'critical';
    const preferences = toDigest || limited ? await preferencesOf([...byRecipient.keys()]) : new Map<string, RecipientPreferences>();
    const prefer = (recipient: string) => preferences.get(recipient) ?? DEFAULT_PREFERENCES;
    const queued: DigestEntry[] = [];
    const sends: Promise<readonly [readonly Claimed[], NotificationOutcome[]]>[] = [];
    const settled = (claims: readonly Claimed[], outcomes: NotificationOutcome[]) => sends.push(Promise.resolve([claims, outcomes] as const));
    const queue = (recipient: string, claims: readonly Claimed[]) => {
      const digestAt = nextDigestAt(prefer(recipient), now);
      for (const c of claims) queued.push({ recipient, alertId: c.alert.id, nextDigestAt: digestAt });
    };
    let dashboardSent = !channels.includes('dashboard');
    for (const [recipient, claims] of byRecipient) {
      if (toDigest) {
        queue(recipient, claims);
        settled(claims, [{ channel: 'digest', status: 'queued', attempts: 0, at: now }]);
      }
      if (paging.length === 0) continue;
      if (limited && (await heldForDigest(recipient, prefer(recipient), now))) {
        if (kind !== 'resolved') queue(recipient, claims);
        settled(claims, paging.map((channel) => ({ channel, status: 'deferred', attempts: 0, at: now })));
        continue;
      }
      if (recipient === ON_CALL) {
        // The dashboard rides on the on-call's message when that message is the whole group's.
        const ride = !dashboardSent && claims.length === loud.length;
        dashboardSent ||= ride;
        sends.push(deps.deliver(message(claims), ride ? [...paging, 'dashboard'] : paging).then((outcomes) => [claims, outcomes] as const));
      } else {
        sends.push(deps.deliver({ ...message(claims), clinician: recipient }, ['sns']).then(([outcome]) => [claims, paging.map((channel) => ({ ...outcome!, channel }))] as const));
      }
    }
    if (!dashboardSent) sends.push(deps.deliver(message(loud), ['dashboard']).then((outcomes) => [loud, outcomes] as const));
    const [results] = await Promise.all([Promise.all(sends), recipients.queueForDigest(queued, now)]);
    const byClaim = new Map<Claimed, NotificationOutcome[]>(loud.map((c) => [c, []]));
    for (const [claims, outcomes] of results) for (const c of claims) byClaim.get(c)!.push(...outcomes);
    return new Map([...byClaim].map(([c, outcomes]) => [c, mergeByChannel(outcomes)]));
  }

  /** Recipients' preferences; the defaults when they cannot be read, since a page must not wait on them. */
  async function preferencesOf(ids: readonly string[]): Promise<Map<string, RecipientPreferences>> {
    try {
      return await recipients.preferencesOf(ids);
    } catch (error) {
      logger.error('recipient preferences could not be read; the defaults apply', { error: error instanceof Error ? error.name : 'unknown' });
      return new Map();
    }
  }

  /**
   * Whether a warning's page to the recipient waits for their digest: in their quiet hours, or
   * once their day's cap of warning pages is taken. When the count cannot be kept the page goes
   * out: a cap protects people from noise, and must not cost them a warning.
   */
  async function heldForDigest(recipient: string, preferences: RecipientPreferences, now: Date): Promise<boolean> {
    if (inQuietHours(preferences, now)) return true;
    try {
      return !(await recipients.takeWarningPage(recipient, localDay(preferences, now), preferences.warningPagesPerDay));
    } catch (error) {
      logger.error('warning pages could not be counted; the page goes out', { error: error instanceof Error ? error.name : 'unknown' });
      return false;
    }
  }

  /**
   * The digests that are due: each recipient's worklist alerts queued since their last digest and
   * still firing, in one e-mail to them (clinicians on their topic, the on-call on the warning
   * topic). The claim moves the recipient's next digest on before sending, so a tick running
   * beside this one, or a later one after a crash, never sends the same digest twice.
   */
  async function sendDueDigests(now: Date): Promise<void> {
    const dueDigests = await recipients.dueDigests(now, TICK_BATCH);
    if (dueDigests.length === 0) return;
    const preferences = await preferencesOf(dueDigests.map((due) => due.recipient));
    for (const due of dueDigests) {
      const digestId = newId();
      const taken = await recipients.claimDigest(due, nextDigestAt(preferences.get(due.recipient) ?? DEFAULT_PREFERENCES, now), digestId);
      if (taken === undefined || taken.length === 0) continue;
      const open = taken.filter((alert) => alert.status === 'firing').sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
      if (open.length === 0) {
        await recipients.recordDigest(digestId, 'empty', 0, now);
        continue;
      }
      const message = { ...alertMessage('digest', open, deps.dashboardUrl), dashboardUrl: `${deps.dashboardUrl}/alerts`, ...(due.recipient !== ON_CALL && { clinician: due.recipient }) };
      const [outcome] = await deps.deliver(message, ['sns']);
      await recipients.recordDigest(digestId, outcome!.status, open.length, clock.now());
      logger.info('alert digest sent', { recipient: due.recipient === ON_CALL ? 'on-call' : 'clinician', alerts: open.length, status: outcome!.status });
    }
  }

  /**
   * Each kind in turn, and within it critical groups before warnings: a page about a person in
   * crisis waits for nothing. Groups of one severity go out side by side.
   */
  async function notifyAll(claimed: Record<NotificationKind, Claimed[]>, now: Date): Promise<void> {
    if (Object.values(claimed).every((list) => list.length === 0)) return;
    const active = await activeSilences(now);
    for (const kind of KIND_ORDER) {
      const groups = groupForNotification(claimed[kind], (c) => c.alert);
      for (const severity of SEVERITIES) {
        await Promise.all(groups.filter((g) => g[0]?.alert.severity === severity).map((g) => notifyGroup(kind, g, active, now)));
      }
    }
  }

  async function apply(transitions: readonly Transition[]): Promise<void> {
    const now = clock.now();
    const claimed = noClaims();
    // In order, claiming as we go: a firing and its resolution in one batch still page, then resolve.
    for (const t of transitions) {
      const print = fingerprint(t.rule.id, t.subject);
      if (t.state === 'firing') {
        const alert = await alerts.upsertFiring({
          id: newId(),
          fingerprint: print,
          rule: t.rule.id,
          severity: t.rule.severity,
          subject: subjectKey(t.subject),
          labels: alertLabels(t.rule, t.subject),
          summary: t.summary,
          routing: t.rule.routing,
          at: t.at,
        });
        if (alert.lastNotifiedAt === undefined) add(claimed, 'firing', await claim(alert, 'firing', undefined, now, t.receivedAt));
        else if (isRepeatDue(alert, now)) add(claimed, 'repeat', await claim(alert, 'repeat', alert.lastNotifiedAt, now));
      } else {
        const notificationId = newId();
        const result = await alerts.resolve({ fingerprint: print, at: t.at, notificationId, now });
        if (result?.resolvedNotificationId !== undefined) add(claimed, 'resolved', { alert: result.alert, notificationId });
      }
    }
    await notifyAll(claimed, now);
  }

  /**
   * A send begun and not heard of within the lease may have gone out: sending it again could page
   * someone twice, so its channels are recorded `unknown`. A critical alert nobody acknowledges
   * still escalates.
   */
  async function recordUnknown(stale: StaleClaim, now: Date): Promise<void> {
    await alerts.record(stale.notificationId, unsent(stale.alert.routing.channels, 'unknown', now));
    logger.error('notification sender lost after its send began; outcome unknown, not sent again', { kind: stale.kind, alert: stale.alert.id, severity: stale.alert.severity });
  }

  async function tick(): Promise<void> {
    const now = clock.now();
    const claimed = noClaims();
    for (const alert of await alerts.firing(TICK_BATCH)) {
      // An alert opened by an invocation that died before claiming its first notification.
      if (alert.lastNotifiedAt === undefined) add(claimed, 'firing', await claim(alert, 'firing', undefined, now));
      else if (isRepeatDue(alert, now)) add(claimed, 'repeat', await claim(alert, 'repeat', alert.lastNotifiedAt, now));
      if (isEscalationDue(alert, now)) add(claimed, 'escalation', await claim(alert, 'escalation', undefined, now));
    }
    const staleBefore = new Date(now.getTime() - STALE_CLAIM_MS);
    for (const stale of await alerts.staleClaims(staleBefore, TICK_BATCH)) {
      if (stale.begun) await recordUnknown(stale, now);
      else if (await alerts.retake(stale.notificationId, staleBefore, now)) add(claimed, stale.kind, { alert: stale.alert, notificationId: stale.notificationId });
    }
    await notifyAll(claimed, now);
    await sendDueDigests(now);
  }

  return { ...makeAlertConsole(deps), apply, tick };
}

export function makeAlertConsole(deps: AlertConsoleDeps): AlertConsole {
  const { alerts, clock, newId } = deps;

  async function acknowledge(id: string, actor: string, caseloadOf?: string): Promise<Alert | undefined> {
    const result = await alerts.acknowledge(id, actor, clock.now(), caseloadOf);
    if (result === 'resolved') throw new AlertResolvedError(id);
    return result;
  }

  function list(query: AlertQuery): Promise<Alert[]> {
    return alerts.list({ ...query, limit: Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), MAX_LIST) });
  }

  const silences: AlertConsole['silences'] = {
    list: () => deps.silences.list(clock.now()),
    async create(input, actor) {
      const now = clock.now();
      const window = silenceWindow(input, now);
      if ('error' in window) throw new InvalidSilenceError(window.error);
      return deps.silences.add({ id: newId(), matchers: input.matchers, ...window, comment: input.comment, createdBy: actor, createdAt: now });
    },
    expire: (id, actor) => deps.silences.expire(id, actor, clock.now()),
  };

  async function eraseSubject(subject: string): Promise<number> {
    return (await alerts.eraseSubject(subject)) + (await deps.silences.eraseSubject(subject));
  }

  const preferences: AlertConsole['preferences'] = {
    get: async (clinicianId) => (await deps.recipients.preferencesOf([clinicianId])).get(clinicianId) ?? DEFAULT_PREFERENCES,
    async set(clinicianId, chosen) {
      const now = clock.now();
      await deps.recipients.setPreferences(clinicianId, chosen, nextDigestAt(chosen, now), now);
      return chosen;
    },
  };

  return { acknowledge, list, get: (id, caseloadOf) => alerts.get(id, caseloadOf), silences, eraseSubject, preferences };
}
