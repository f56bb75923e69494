import { FOLLOW_WINDOW_MS, MOOD_WINDOW_MS, type EffectivenessCounts, type FollowUp } from '../../domain/alerting/intervention-effectiveness';
import type { InterventionRecord, InterventionStatus, InterventionStore } from '../../ports/interventions';
import type { SqlDatabase } from './database';

interface Row {
  id: string;
  rule_id: string;
  subject: string;
  event_id: string;
  intervention_type: string;
  urgency: string;
  recommended_at: Date;
  status: InterventionStatus;
  sender: string | null;
  attempts: number;
  sent_at: Date | null;
  followed_at: Date | null;
  mood_before: number | null;
  mood_after: number | null;
}

const fromRow = (row: Row): InterventionRecord => ({
  id: row.id,
  ruleId: row.rule_id,
  subject: row.subject,
  eventId: row.event_id,
  interventionType: row.intervention_type,
  urgency: row.urgency,
  recommendedAt: new Date(row.recommended_at),
  status: row.status,
  ...(row.sender === null ? {} : { sender: row.sender }),
  attempts: row.attempts,
  ...(row.sent_at === null ? {} : { sentAt: new Date(row.sent_at) }),
  ...(row.followed_at === null ? {} : { followedAt: new Date(row.followed_at) }),
  ...(row.mood_before === null ? {} : { moodBefore: row.mood_before }),
  ...(row.mood_after === null ? {} : { moodAfter: row.mood_after }),
});

const ms = (parameter: string) => `(${parameter}::int8 * interval '1 millisecond')`;

// Each statement joins the batch's observations to the recommendations of their users; the
// earliest observation wins where several could (DISTINCT ON ... ORDER BY), so the result does
// not depend on how the batch was cut.
const FOLLOWED_BY_COMPLETION = `
  UPDATE interventions i SET followed_at = o.at FROM (
    SELECT DISTINCT ON (r.id) r.id, o.at FROM interventions r
    JOIN unnest($1::text[], $2::text[], $3::timestamptz[]) AS o (subject, intervention_type, at)
      ON o.subject = r.subject AND o.intervention_type = r.intervention_type AND o.at >= r.recommended_at AND o.at < r.recommended_at + ${ms('$4')}
    WHERE r.status = 'sent' AND r.followed_at IS NULL ORDER BY r.id, o.at) o
  WHERE i.id = o.id`;
const moods = 'unnest($1::text[], $2::float8[], $3::timestamptz[]) AS m (subject, valence, at)';
// A check-in is answered by the person's next mood report.
const FOLLOWED_BY_CHECK_IN = `
  UPDATE interventions i SET followed_at = m.at FROM (
    SELECT DISTINCT ON (r.id) r.id, m.at FROM interventions r
    JOIN ${moods} ON m.subject = r.subject AND m.at >= r.recommended_at AND m.at < r.recommended_at + ${ms('$4')}
    WHERE r.intervention_type = 'check_in' AND r.status = 'sent' AND r.followed_at IS NULL ORDER BY r.id, m.at) m
  WHERE i.id = m.id`;
const MOOD_AFTER = `
  UPDATE interventions i SET mood_after = m.valence FROM (
    SELECT DISTINCT ON (r.id) r.id, m.valence FROM interventions r
    JOIN ${moods} ON m.subject = r.subject AND m.at >= r.followed_at AND m.at < r.followed_at + ${ms('$4')}
    WHERE r.followed_at IS NOT NULL AND r.mood_after IS NULL ORDER BY r.id, m.at) m
  WHERE i.id = m.id`;
const MOOD_BEFORE = `
  UPDATE interventions i SET mood_before = m.valence, mood_before_at = m.at FROM (
    SELECT DISTINCT ON (r.id) r.id, m.valence, m.at FROM interventions r
    JOIN ${moods} ON m.subject = r.subject AND m.at <= r.recommended_at AND m.at > r.recommended_at - ${ms('$4')}
    ORDER BY r.id, m.at DESC) m
  WHERE i.id = m.id AND (i.mood_before_at IS NULL OR i.mood_before_at < m.at)`;
const LAST_MOOD = `
  INSERT INTO subject_moods (subject, valence, at)
  SELECT DISTINCT ON (m.subject) m.subject, m.valence, m.at FROM ${moods} ORDER BY m.subject, m.at DESC
  ON CONFLICT (subject) DO UPDATE SET valence = EXCLUDED.valence, at = EXCLUDED.at WHERE subject_moods.at < EXCLUDED.at`;

type CountsRow = { week: Date | string; intervention_type: string; users: number; recommended: number; sent: number; followed: number; mood_users: number; mood_change_mean: number | null };

export class SqlInterventionStore implements InterventionStore {
  constructor(private readonly db: SqlDatabase) {}

  async record(intervention: InterventionRecord): Promise<boolean> {
    const { rows } = await this.db.query(
      // The mood before: the user's last one known, which a mood reported earlier and seen later replaces (MOOD_BEFORE).
      `INSERT INTO interventions (id, rule_id, subject, event_id, intervention_type, urgency, recommended_at, status, sender, attempts, sent_at, mood_before, mood_before_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, m.valence, m.at
       FROM (SELECT 1) AS one LEFT JOIN subject_moods m ON m.subject = $3 AND m.at <= $7 AND m.at > $7::timestamptz - ${ms('$12')}
       ON CONFLICT (id) DO NOTHING RETURNING 1`,
      [
        intervention.id,
        intervention.ruleId,
        intervention.subject,
        intervention.eventId,
        intervention.interventionType,
        intervention.urgency,
        intervention.recommendedAt.toISOString(),
        intervention.status,
        intervention.sender ?? null,
        intervention.attempts,
        intervention.sentAt?.toISOString() ?? null,
        MOOD_WINDOW_MS,
      ],
    );
    return rows.length === 1;
  }

  async followUp(observations: readonly FollowUp[]): Promise<void> {
    const completed = observations.filter((o) => o.kind === 'completed');
    const moodReports = observations.filter((o) => o.kind === 'mood');
    if (completed.length === 0 && moodReports.length === 0) return;
    const moodColumns = [moodReports.map((o) => o.subject), moodReports.map((o) => o.valence), moodReports.map((o) => o.at.toISOString())];
    await this.db.transaction(async (tx) => {
      if (completed.length > 0) {
        await tx.query(FOLLOWED_BY_COMPLETION, [completed.map((o) => o.subject), completed.map((o) => o.interventionType), completed.map((o) => o.at.toISOString()), FOLLOW_WINDOW_MS]);
      }
      if (moodReports.length === 0) return;
      await tx.query(FOLLOWED_BY_CHECK_IN, [...moodColumns, FOLLOW_WINDOW_MS]);
      await tx.query(MOOD_AFTER, [...moodColumns, MOOD_WINDOW_MS]);
      await tx.query(MOOD_BEFORE, [...moodColumns, MOOD_WINDOW_MS]);
      await tx.query(LAST_MOOD, moodColumns);
    });
  }

  async effectiveness(from: Date, to: Date): Promise<EffectivenessCounts[]> {
    const { rows } = await this.db.query<CountsRow>(
      `SELECT date_trunc('week', recommended_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS week, intervention_type,
         count(DISTINCT subject)::int AS users, count(*)::int AS recommended,
         count(*) FILTER (WHERE status = 'sent')::int AS sent, count(followed_at)::int AS followed,
         count(DISTINCT subject) FILTER (WHERE mood_after IS NOT NULL AND mood_before IS NOT NULL)::int AS mood_users,
         avg(mood_after - mood_before) AS mood_change_mean
       FROM interventions WHERE recommended_at >= $1 AND recommended_at < $2
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [from.toISOString(), to.toISOString()],
    );
    return rows.map((row) => ({
      week: new Date(row.week),
      interventionType: row.intervention_type,
      users: row.users,
      recommended: row.recommended,
      sent: row.sent,
      followed: row.followed,
      moodUsers: row.mood_users,
      moodChangeMean: row.mood_change_mean === null ? null : Number(row.mood_change_mean),
    }));
  }

  async forgetMoodsBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query('DELETE FROM subject_moods WHERE at < $1 RETURNING 1', [cutoff.toISOString()]);
    return rows.length;
  }

  async ofSubject(subject: string): Promise<InterventionRecord[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM interventions WHERE subject = $1 ORDER BY recommended_at DESC, id', [subject]);
    return rows.map(fromRow);
  }

  async eraseSubject(subject: string): Promise<number> {
    const { rows } = await this.db.query('DELETE FROM interventions WHERE subject = $1 RETURNING 1', [subject]);
    const { rows: moods } = await this.db.query('DELETE FROM subject_moods WHERE subject = $1 RETURNING 1', [subject]);
    return rows.length + moods.length;
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query('DELETE FROM interventions WHERE recommended_at < $1 RETURNING 1', [cutoff.toISOString()]);
    return rows.length;
  }
}
