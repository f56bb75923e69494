import type { CaseloadStore } from '../../ports/caseloads';
import type { SqlDatabase } from './database';

export class SqlCaseloadStore implements CaseloadStore {
  constructor(private readonly db: SqlDatabase) {}

  async replace(clinicianId: string, subjects: readonly string[], at: Date): Promise<number> {
    // One transaction: a clinician never sees an empty caseload between the two statements.
    return this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM clinician_users WHERE clinician_id = $1 AND NOT (subject = ANY($2::text[]))', [clinicianId, [...subjects]]);
      await tx.query(
        'INSERT INTO clinician_users (clinician_id, subject, assigned_at) SELECT $1, s, $3 FROM unnest($2::text[]) AS s ON CONFLICT (clinician_id, subject) DO NOTHING',
        [clinicianId, [...subjects], at.toISOString()],
      );
      return subjects.length;
    });
  }
}
