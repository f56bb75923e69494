import type { Alert, AlertCore, AlertNotification, AlertState, AlertStatus, NotificationKind } from '../../domain/alerting/alert';
import type { Channel, Routing, Severity } from '../../domain/alerting/model';
import type { AlertQuery, AlertStore, AlertTiming, FiringAlert, NotificationClaim, NotificationOutcome, Resolution, StaleClaim } from '../../ports/alerts';
import type { SqlDatabase } from './database';

export type AlertRow = {
  id: string;
  fingerprint: string;
  rule: string;
  severity: Severity;
  status: AlertStatus;
  subject: string;
  labels: Record<string, string>;
  summary: string;
  routing: Routing;
  starts_at: Date | string;
  updated_at: Date | string;
  resolved_at: Date | string | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | string | null;
  escalated_at: Date | string | null;
  last_notified_at: Date | string | null;
  inhibited_by: string | null;
};

type StoredOutcome = { channel: Channel; status: AlertNotification['status']; attempts: number; at: string; error?: string };

const iso = (value: Date | string): string => new Date(value).toISOString();

/** Outcomes of a channel nothing went out on now: a 'resolved' notification of only these would tell of nothing. */
const HELD_BACK: ReadonlySet<AlertNotification['status']> = new Set(['silenced', 'inhibited', 'queued', 'deferred']);

/** The alert's subject is in the caseload of the clinician `parameter` names, or it names none. */
const IN_CASELOAD = (parameter: string) => `(${parameter}::text IS NULL OR subject IN (SELECT subject FROM clinician_users WHERE clinician_id = ${parameter}))`;

const coreOf = (row: AlertRow): AlertCore => ({
  id: row.id,
  rule: row.rule,
  severity: row.severity,
  status: row.status,
  subject: row.subject,
  labels: row.labels,
  summary: row.summary,
});

export function stateOf(row: AlertRow): AlertState {
  return {
    ...coreOf(row),
    fingerprint: row.fingerprint,
    routing: row.routing,
    startsAt: new Date(row.starts_at),
    ...(row.last_notified_at !== null && { lastNotifiedAt: new Date(row.last_notified_at) }),
    ...(row.escalated_at !== null && { escalatedAt: new Date(row.escalated_at) }),
  };
}

function alertOf(row: AlertRow, notifications: readonly AlertNotification[], inhibits: readonly string[], assigned: boolean): Alert {
  return {
    ...coreOf(row),
    startsAt: iso(row.starts_at),
    updatedAt: iso(row.updated_at),
    ...(row.resolved_at !== null && { resolvedAt: iso(row.resolved_at) }),
    ...(row.acknowledged_by !== null && { acknowledgedBy: row.acknowledged_by }),
    ...(row.acknowledged_at !== null && { acknowledgedAt: iso(row.acknowledged_at) }),
    ...(row.escalated_at !== null && { escalatedAt: iso(row.escalated_at) }),
    ...(row.inhibited_by !== null && { inhibitedBy: row.inhibited_by }),
    ...(inhibits.length > 0 && { inhibits }),
    ...(!assigned && row.subject.startsWith('user:') && { unassigned: true as const }),
    notifications,
  };
}

const UPSERT_FIRING = `
  INSERT INTO alerts (id, fingerprint, rule, severity, status, subject, labels, summary, routing, starts_at, updated_at)
  VALUES ($1, $2, $3, $4, 'firing', $5, $6::jsonb, $7, $8::jsonb, $9, $9)
  ON CONFLICT (fingerprint) WHERE status <> 'resolved' DO UPDATE SET
    summary = CASE WHEN EXCLUDED.updated_at >= alerts.updated_at THEN EXCLUDED.summary ELSE alerts.summary END,
    labels = EXCLUDED.labels,
    routing = EXCLUDED.routing,
    updated_at = GREATEST(alerts.updated_at, EXCLUDED.updated_at)
  RETURNING *`;

// A claim is a compare-and-set on the column the caller read, and the notification row in the same
// statement: of callers that read the same state exactly one updates the row, the others find it
// changed (PostgreSQL re-checks the WHERE on the updated row after waiting for its lock).
const claimOn = (column: 'last_notified_at' | 'escalated_at') => `
  WITH won AS (
    UPDATE alerts SET ${column} = $3
    WHERE id = $2 AND status = 'firing' AND ${column} IS NOT DISTINCT FROM $4::timestamptz
    RETURNING id)
  INSERT INTO alert_notifications (id, alert_id, kind, claimed_at) SELECT $1, id, $5, $3 FROM won
  RETURNING id`;
const CLAIM_NOTIFICATION = claimOn('last_notified_at');
const CLAIM_ESCALATION = claimOn('escalated_at');

export class SqlAlertStore implements AlertStore {
  constructor(private readonly db: SqlDatabase) {}

  async upsertFiring(alert: FiringAlert): Promise<AlertState> {
    const { rows } = await this.db.query<AlertRow>(UPSERT_FIRING, [
      alert.id,
      alert.fingerprint,
      alert.rule,
      alert.severity,
      alert.subject,
      JSON.stringify(alert.labels),
      alert.summary,
      JSON.stringify(alert.routing),
      alert.at.toISOString(),
    ]);
    return stateOf(rows[0] as AlertRow);
  }

  async resolve(input: Resolution): Promise<{ alert: AlertState; resolvedNotificationId?: string } | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<AlertRow>(
        // Never before it started, whatever the caller's clock or the resolving event's time said.
        `UPDATE alerts SET status = 'resolved', resolved_at = GREATEST(starts_at, $2), updated_at = GREATEST(updated_at, $2)
         WHERE fingerprint = $1 AND status <> 'resolved' RETURNING *`,
        [input.fingerprint, input.at.toISOString()],
      );
      const row = rows[0];
      if (!row) return undefined;
      // Notified: a notification was tried on a channel, or is in flight (claimed, no outcome yet).
      const claimed = await tx.query<{ id: string }>(
        `INSERT INTO alert_notifications (id, alert_id, kind, claimed_at)
         SELECT $1, $2, 'resolved', $3
         WHERE EXISTS (SELECT 1 FROM alert_notifications WHERE alert_id = $2 AND sent IS DISTINCT FROM false)
         ON CONFLICT DO NOTHING RETURNING id`,
        [input.notificationId, row.id, input.now.toISOString()],
      );
      const resolvedNotificationId = claimed.rows[0]?.id;
      return { alert: stateOf(row), ...(resolvedNotificationId !== undefined && { resolvedNotificationId }) };
    });
  }

  async claim(claim: NotificationClaim): Promise<boolean> {
    const { rows } = await this.db.query(claim.kind === 'escalation' ? CLAIM_ESCALATION : CLAIM_NOTIFICATION, [
      claim.notificationId,
      claim.alertId,
      claim.at.toISOString(),
      claim.expected?.toISOString() ?? null,
      claim.kind,
    ]);
    return rows.length === 1;
  }

  async record(notificationId: string, outcomes: readonly NotificationOutcome[]): Promise<void> {
    const stored: StoredOutcome[] = outcomes.map((o) => ({ channel: o.channel, status: o.status, attempts: o.attempts, at: o.at.toISOString(), ...(o.error !== undefined && { error: o.error }) }));
    // An `unknown` record (a retaker's, of a send begun and not heard of) gives way to the sender's own.
    await this.db.query(`UPDATE alert_notifications SET outcomes = $2::jsonb, sent = $3 WHERE id = $1 AND (outcomes IS NULL OR outcomes @> '[{"status": "unknown"}]')`, [
      notificationId,
      JSON.stringify(stored),
      outcomes.some((o) => !HELD_BACK.has(o.status)),
    ]);
  }

  async begin(notificationIds: readonly string[], claimedAt: Date, at: Date): Promise<string[]> {
    if (notificationIds.length === 0) return [];
    const { rows } = await this.db.query<{ id: string }>(
      'UPDATE alert_notifications SET sending_at = $3 WHERE id = ANY($1::text[]) AND claimed_at = $2 AND sending_at IS NULL AND outcomes IS NULL RETURNING id',
      [notificationIds, claimedAt.toISOString(), at.toISOString()],
    );
    return rows.map((row) => row.id);
  }

  async staleClaims(claimedBefore: Date, limit: number): Promise<StaleClaim[]> {
    // A firing, repeat or escalation claim not begun, of an alert acknowledged or resolved since,
    // would now page about something settled; it is left unsent. A begun one is stale a lease
    // after its send began.
    const { rows } = await this.db.query<AlertRow & { notification_id: string; notification_kind: NotificationKind; begun: boolean }>(
      `SELECT a.*, n.id AS notification_id, n.kind AS notification_kind, n.sending_at IS NOT NULL AS begun
       FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
       WHERE n.outcomes IS NULL AND COALESCE(n.sending_at, n.claimed_at) <= $1 AND (n.sending_at IS NOT NULL OR n.kind = 'resolved' OR a.status = 'firing')
       ORDER BY n.claimed_at LIMIT $2`,
      [claimedBefore.toISOString(), limit],
    );
    return rows.map((row) => ({ notificationId: row.notification_id, kind: row.notification_kind, alert: stateOf(row), begun: row.begun }));
  }

  async retake(notificationId: string, claimedBefore: Date, at: Date): Promise<boolean> {
    const { rows } = await this.db.query('UPDATE alert_notifications SET claimed_at = $3 WHERE id = $1 AND outcomes IS NULL AND sending_at IS NULL AND claimed_at <= $2 RETURNING id', [
      notificationId,
      claimedBefore.toISOString(),
      at.toISOString(),
    ]);
    return rows.length === 1;
  }

  async openCritical(subjects: readonly string[]): Promise<Map<string, string>> {
    if (subjects.length === 0) return new Map();
    const { rows } = await this.db.query<{ subject: string; id: string }>(
      `SELECT DISTINCT ON (subject) subject, id FROM alerts WHERE subject = ANY($1::text[]) AND severity = 'critical' AND status <> 'resolved' ORDER BY subject, starts_at`,
      [[...new Set(subjects)]],
    );
    return new Map(rows.map((row) => [row.subject, row.id]));
  }

  async cliniciansOf(subjects: readonly string[]): Promise<Map<string, string[]>> {
    if (subjects.length === 0) return new Map();
    const { rows } = await this.db.query<{ subject: string; clinicians: string[] }>(
      'SELECT subject, array_agg(clinician_id ORDER BY clinician_id) AS clinicians FROM clinician_users WHERE subject = ANY($1::text[]) GROUP BY subject',
      [[...new Set(subjects)]],
    );
    return new Map(rows.map((row) => [row.subject, row.clinicians]));
  }

  async inhibit(alertId: string, inhibitor: string): Promise<void> {
    await this.db.query('UPDATE alerts SET inhibited_by = $2 WHERE id = $1', [alertId, inhibitor]);
  }

  async firing(limit: number): Promise<AlertState[]> {
    const { rows } = await this.db.query<AlertRow>(`SELECT * FROM alerts WHERE status = 'firing' ORDER BY starts_at, id LIMIT $1`, [limit]);
    return rows.map(stateOf);
  }

  async acknowledge(id: string, actor: string, at: Date, caseloadOf?: string): Promise<Alert | 'resolved' | undefined> {
    await this.db.query(
      `UPDATE alerts SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, updated_at = GREATEST(updated_at, $3)
       WHERE id = $1 AND status = 'firing' AND ${IN_CASELOAD('$4')}`,
      [id, actor, at.toISOString(), caseloadOf ?? null],
    );
    const alert = await this.get(id, caseloadOf);
    return alert?.status === 'resolved' ? 'resolved' : alert;
  }

  async get(id: string, caseloadOf?: string): Promise<Alert | undefined> {
    const { rows } = await this.db.query<AlertRow>(`SELECT * FROM alerts WHERE id = $1 AND ${IN_CASELOAD('$2')}`, [id, caseloadOf ?? null]);
    return (await this.withNotifications(rows))[0];
  }

  async list(query: AlertQuery): Promise<Alert[]> {
    const { rows } = await this.db.query<AlertRow>(
      `SELECT * FROM alerts
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR severity = $2) AND ($3::timestamptz IS NULL OR starts_at < $3) AND ${IN_CASELOAD('$5')}
       ORDER BY starts_at DESC, id DESC LIMIT $4`,
      [query.status ?? null, query.severity ?? null, query.before?.toISOString() ?? null, query.limit ?? 100, query.caseloadOf ?? null],
    );
    return this.withNotifications(rows);
  }

  /** The subject's alerts, and its place in every caseload. */
  async eraseSubject(subject: string): Promise<number> {
    const { rows } = await this.db.query('DELETE FROM alerts WHERE subject = $1 RETURNING id', [subject]);
    const { rows: assignments } = await this.db.query('DELETE FROM clinician_users WHERE subject = $1 RETURNING 1', [subject]);
    return rows.length + assignments.length;
  }

  async purgeResolvedBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [cutoff.toISOString()],
    );
    return rows[0]?.n ?? 0;
  }

  async timings(from: Date, to: Date): Promise<AlertTiming[]> {
    const { rows } = await this.db.query<Pick<AlertRow, 'rule' | 'severity' | 'status' | 'starts_at' | 'acknowledged_at' | 'resolved_at' | 'escalated_at'>>(
      `SELECT rule, severity, status, starts_at, acknowledged_at, resolved_at, escalated_at FROM alerts
       WHERE starts_at >= $1 AND starts_at < $2 ORDER BY starts_at, id`,
      [from.toISOString(), to.toISOString()],
    );
    return rows.map((row) => ({
      rule: row.rule,
      severity: row.severity,
      status: row.status,
      startsAt: new Date(row.starts_at),
      ...(row.acknowledged_at !== null && { acknowledgedAt: new Date(row.acknowledged_at) }),
      ...(row.resolved_at !== null && { resolvedAt: new Date(row.resolved_at) }),
      ...(row.escalated_at !== null && { escalatedAt: new Date(row.escalated_at) }),
    }));
  }

  private async withNotifications(rows: readonly AlertRow[]): Promise<Alert[]> {
    if (rows.length === 0) return [];
    const { rows: sent } = await this.db.query<{ alert_id: string; kind: NotificationKind; outcomes: StoredOutcome[] }>(
      'SELECT alert_id, kind, outcomes FROM alert_notifications WHERE alert_id = ANY($1::text[]) AND outcomes IS NOT NULL ORDER BY claimed_at, id',
      [rows.map((row) => row.id)],
    );
    const byAlert = new Map<string, AlertNotification[]>();
    for (const notification of sent) {
      const list = byAlert.get(notification.alert_id) ?? [];
      for (const outcome of notification.outcomes) list.push({ kind: notification.kind, ...outcome });
      byAlert.set(notification.alert_id, list);
    }
    const criticals = rows.filter((row) => row.severity === 'critical').map((row) => row.id);
    const { rows: held } =
      criticals.length === 0
        ? { rows: [] }
        : await this.db.query<{ id: string; inhibited_by: string }>(`SELECT id, inhibited_by FROM alerts WHERE inhibited_by = ANY($1::text[]) AND status <> 'resolved' ORDER BY starts_at, id`, [criticals]);
    const inhibits = new Map<string, string[]>();
    for (const lesser of held) inhibits.set(lesser.inhibited_by, [...(inhibits.get(lesser.inhibited_by) ?? []), lesser.id]);
    const { rows: assigned } = await this.db.query<{ subject: string }>('SELECT DISTINCT subject FROM clinician_users WHERE subject = ANY($1::text[])', [[...new Set(rows.map((row) => row.subject))]]);
    const inCaseloads = new Set(assigned.map((row) => row.subject));
    return rows.map((row) => alertOf(row, byAlert.get(row.id) ?? [], inhibits.get(row.id) ?? [], inCaseloads.has(row.subject)));
  }
}
