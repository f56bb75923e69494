import type { Silence, SilenceMatcher } from '../../domain/alerting/silence';
import type { NewSilence, SilenceStore } from '../../ports/alerts';
import type { SqlDatabase } from './database';

type Row = {
  id: string;
  matchers: SilenceMatcher[];
  starts_at: Date | string;
  ends_at: Date | string;
  comment: string;
  created_by: string;
  created_at: Date | string;
  expired_by: string | null;
};

const RECENTLY_ENDED_SEC = 7 * 86_400;
const iso = (value: Date | string): string => new Date(value).toISOString();

function silenceOf(row: Row): Silence {
  return {
    id: row.id,
    matchers: row.matchers,
    startsAt: iso(row.starts_at),
    endsAt: iso(row.ends_at),
    comment: row.comment,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    ...(row.expired_by !== null && { expiredBy: row.expired_by }),
  };
}

export class SqlSilenceStore implements SilenceStore {
  constructor(private readonly db: SqlDatabase) {}

  async add(silence: NewSilence): Promise<Silence> {
    const { rows } = await this.db.query<Row>(
      'INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by, created_at) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7) RETURNING *',
      [silence.id, JSON.stringify(silence.matchers), silence.startsAt.toISOString(), silence.endsAt.toISOString(), silence.comment, silence.createdBy, silence.createdAt.toISOString()],
    );
    return silenceOf(rows[0] as Row);
  }

  async list(now: Date): Promise<Silence[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM silences WHERE ends_at > $1 ORDER BY created_at DESC, id DESC', [
      new Date(now.getTime() - RECENTLY_ENDED_SEC * 1000).toISOString(),
    ]);
    return rows.map(silenceOf);
  }

  async active(at: Date): Promise<Silence[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM silences WHERE starts_at <= $1 AND ends_at > $1', [at.toISOString()]);
    return rows.map(silenceOf);
  }

  async expire(id: string, actor: string, at: Date): Promise<boolean> {
    // A silence that has not started yet ends before it starts: both move to now.
    await this.db.query(
      `UPDATE silences SET ends_at = $3, starts_at = LEAST(starts_at, $3), expired_by = $2
       WHERE id = $1 AND ends_at > $3`,
      [id, actor, at.toISOString()],
    );
    const { rows } = await this.db.query('SELECT 1 FROM silences WHERE id = $1', [id]);
    return rows.length === 1;
  }

  async eraseSubject(subject: string): Promise<number> {
    const { rows } = await this.db.query('DELETE FROM silences WHERE matchers @> $1::jsonb RETURNING id', [JSON.stringify([{ name: 'subject', value: subject }])]);
    return rows.length;
  }
}
