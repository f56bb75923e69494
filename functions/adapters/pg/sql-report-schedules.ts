import type { ReportSchedule } from '../../domain/reports/schedule';
import type { ReportScheduleStore } from '../../ports/reports';
import type { SqlDatabase } from './database';

type Row = {
  id: string;
  kind: ReportSchedule['kind'];
  cron: string;
  time_zone: string;
  period: ReportSchedule['period'];
  formats: ReportSchedule['formats'];
  recipients: string[];
  enabled: boolean;
};

const scheduleOf = (row: Row): ReportSchedule => ({
  id: row.id,
  kind: row.kind,
  cron: row.cron,
  timeZone: row.time_zone,
  period: row.period,
  formats: row.formats,
  recipients: row.recipients,
  enabled: row.enabled,
});

export class SqlReportScheduleStore implements ReportScheduleStore {
  constructor(private readonly db: SqlDatabase) {}

  async list(): Promise<ReportSchedule[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM report_schedules ORDER BY position');
    return rows.map(scheduleOf);
  }

  async get(id: string): Promise<ReportSchedule | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM report_schedules WHERE id = $1', [id]);
    return rows[0] && scheduleOf(rows[0]);
  }

  async replace(schedules: readonly ReportSchedule[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM report_schedules');
      for (const [position, schedule] of schedules.entries()) {
        await tx.query(
          'INSERT INTO report_schedules (id, kind, cron, time_zone, period, formats, recipients, enabled, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
          [schedule.id, schedule.kind, schedule.cron, schedule.timeZone, schedule.period, schedule.formats, schedule.recipients, schedule.enabled, position],
        );
      }
    });
  }

  async claimMailing(scheduleId: string, periodLabel: string, runId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `INSERT INTO report_mailings (schedule_id, period_label, report_id, status) VALUES ($1, $2, $3, 'sending')
       ON CONFLICT (schedule_id, period_label) DO UPDATE SET report_id = EXCLUDED.report_id, status = 'sending'
       WHERE report_mailings.status = 'failed'
       RETURNING 1`,
      [scheduleId, periodLabel, runId],
    );
    return rows.length === 1;
  }

  async settleMailing(scheduleId: string, periodLabel: string, outcome: 'sent' | 'failed'): Promise<void> {
    await this.db.query('UPDATE report_mailings SET status = $3 WHERE schedule_id = $1 AND period_label = $2', [scheduleId, periodLabel, outcome]);
  }
}
