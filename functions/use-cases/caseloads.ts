import { subjectKey } from '../domain/alerting/model';
import type { Clock } from '../ports';
import type { CaseloadStore } from '../ports/caseloads';

export interface AssignCaseloadDeps {
  readonly caseloads: CaseloadStore;
  readonly pseudonymiseUser: (userId: string) => string;
  readonly clock: Clock;
}

/**
 * PUT /v1/clinicians/{clinicianId}/users: the clinician's whole caseload, each user id
 * pseudonymised on arrival as ingest does, so the assignment names the same subject as the
 * user's alerts and no raw id is kept.
 */
export function makeAssignCaseload(deps: AssignCaseloadDeps) {
  return async function assignCaseload(clinicianId: string, userIds: readonly string[]): Promise<{ clinicianId: string; users: number }> {
    const users = await deps.caseloads.replace(
      clinicianId,
      userIds.map((userId) => subjectKey({ kind: 'user', id: deps.pseudonymiseUser(userId) })),
      deps.clock.now(),
    );
    return { clinicianId, users };
  };
}

export type AssignCaseload = ReturnType<typeof makeAssignCaseload>;
