import type { AlertState } from '../../domain/alerting/alert';
import type { RecipientPreferences } from '../../domain/alerting/recipient';
import type { DigestEntry, DueDigest, RecipientStore } from '../../ports/alerts';
import type { SqlDatabase } from './database';
import { stateOf, type AlertRow } from './sql-alert-store';

export class SqlRecipientStore implements RecipientStore {
  constructor(private readonly db: SqlDatabase) {}

  async preferencesOf(recipients: readonly string[]): Promise<Map<string, RecipientPreferences>> {
    if (recipients.length === 0) return new Map();
    const { rows } = await this.db.query<{ recipient: string; preferences: RecipientPreferences }>(
      'SELECT recipient, preferences FROM alert_recipients WHERE recipient = ANY($1::text[]) AND preferences IS NOT NULL',
      [[...new Set(recipients)]],
    );
    return new Map(rows.map((row) => [row.recipient, row.preferences]));
  }

  async setPreferences(recipient: string, preferences: RecipientPreferences, nextDigestAt: Date, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO alert_recipients (recipient, preferences, next_digest_at, updated_at) VALUES ($1, $2::jsonb, $3, $4)
       ON CONFLICT (recipient) DO UPDATE SET preferences = EXCLUDED.preferences, next_digest_at = EXCLUDED.next_digest_at, updated_at = EXCLUDED.updated_at`,
      [recipient, JSON.stringify(preferences), nextDigestAt.toISOString(), at.toISOString()],
    );
  }

  async takeWarningPage(recipient: string, day: string, cap: number): Promise<boolean> {
    if (cap <= 0) return false;
    // One statement: of concurrent senders at the cap's edge, PostgreSQL's row lock lets one take the last page.
    const { rows } = await this.db.query(
      `INSERT INTO alert_warning_pages (recipient, day, pages) VALUES ($1, $2::date, 1)
       ON CONFLICT (recipient, day) DO UPDATE SET pages = alert_warning_pages.pages + 1 WHERE alert_warning_pages.pages < $3
       RETURNING pages`,
      [recipient, day, cap],
    );
    return rows.length === 1;
  }

  async queueForDigest(entries: readonly DigestEntry[], at: Date): Promise<void> {
    if (entries.length === 0) return;
    const recipients = [...new Map(entries.map((entry) => [entry.recipient, entry.nextDigestAt.toISOString()]))];
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO alert_recipients (recipient, preferences, next_digest_at, updated_at)
         SELECT recipient, NULL, next_digest_at, $3 FROM unnest($1::text[], $2::timestamptz[]) AS r (recipient, next_digest_at)
         ON CONFLICT (recipient) DO NOTHING`,
        [recipients.map(([recipient]) => recipient), recipients.map(([, next]) => next), at.toISOString()],
      );
      await tx.query(
        `INSERT INTO alert_digest_items (recipient, alert_id, queued_at, digest_id)
         SELECT recipient, alert_id, $3, NULL FROM unnest($1::text[], $2::text[]) AS e (recipient, alert_id)
         ON CONFLICT (recipient, alert_id) DO UPDATE SET queued_at = EXCLUDED.queued_at, digest_id = NULL`,
        [entries.map((entry) => entry.recipient), entries.map((entry) => entry.alertId), at.toISOString()],
      );
    });
  }

  async dueDigests(now: Date, limit: number): Promise<DueDigest[]> {
    const { rows } = await this.db.query<{ recipient: string; next_digest_at: Date | string }>(
      'SELECT recipient, next_digest_at FROM alert_recipients WHERE next_digest_at <= $1 ORDER BY next_digest_at, recipient LIMIT $2',
      [now.toISOString(), limit],
    );
    return rows.map((row) => ({ recipient: row.recipient, dueAt: new Date(row.next_digest_at) }));
  }

  async claimDigest(due: DueDigest, next: Date, digestId: string): Promise<AlertState[] | undefined> {
    return this.db.transaction(async (tx) => {
      const moved = await tx.query('UPDATE alert_recipients SET next_digest_at = $3 WHERE recipient = $1 AND next_digest_at = $2 RETURNING 1', [
        due.recipient,
        due.dueAt.toISOString(),
        next.toISOString(),
      ]);
      if (moved.rows.length === 0) return undefined;
      const { rows } = await tx.query<AlertRow>(
        `WITH taken AS (
           UPDATE alert_digest_items SET digest_id = $3 WHERE recipient = $1 AND digest_id IS NULL AND queued_at <= $2 RETURNING alert_id)
         SELECT a.* FROM alerts a JOIN taken ON taken.alert_id = a.id ORDER BY a.starts_at, a.id`,
        [due.recipient, due.dueAt.toISOString(), digestId],
      );
      if (rows.length > 0) await tx.query('INSERT INTO alert_digests (id, recipient, due_at, alerts) VALUES ($1, $2, $3, 0)', [digestId, due.recipient, due.dueAt.toISOString()]);
      return rows.map(stateOf);
    });
  }

  async recordDigest(digestId: string, status: 'delivered' | 'undelivered' | 'empty', alerts: number, at: Date): Promise<void> {
    await this.db.query('UPDATE alert_digests SET status = $2, alerts = $3, sent_at = $4 WHERE id = $1', [digestId, status, alerts, at.toISOString()]);
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `WITH digests AS (DELETE FROM alert_digests WHERE due_at < $1 RETURNING 1),
            pages AS (DELETE FROM alert_warning_pages WHERE day < $1::timestamptz::date RETURNING 1)
       SELECT (SELECT count(*) FROM digests)::int + (SELECT count(*) FROM pages)::int AS n`,
      [cutoff.toISOString()],
    );
    return rows[0]?.n ?? 0;
  }
}
