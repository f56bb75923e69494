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
});

export class SqlInterventionStore implements InterventionStore {
  constructor(private readonly db: SqlDatabase) {}

  async record(intervention: InterventionRecord): Promise<boolean> {
    const { rows } = await this.db.query(
      `INSERT INTO interventions (id, rule_id, subject, event_id, intervention_type, urgency, recommended_at, status, sender, attempts, sent_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING RETURNING 1`,
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
      ],
    );
    return rows.length === 1;
  }

  async ofSubject(subject: string): Promise<InterventionRecord[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM interventions WHERE subject = $1 ORDER BY recommended_at DESC, id', [subject]);
    return rows.map(fromRow);
  }

  async eraseSubject(subject: string): Promise<number> {
    const { rows } = await this.db.query('DELETE FROM interventions WHERE subject = $1 RETURNING 1', [subject]);
    return rows.length;
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const { rows } = await this.db.query('DELETE FROM interventions WHERE recommended_at < $1 RETURNING 1', [cutoff.toISOString()]);
    return rows.length;
  }
}
