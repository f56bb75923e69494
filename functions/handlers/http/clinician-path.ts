import { clinicianIdSchema } from '../../domain/alerting/caseload';
import { issueMessage } from '../../domain/api/issue-message';
import { badRequest } from './errors';
import type { HttpEvent } from './middleware';

/** The `{clinicianId}` of a route's path, or a 400 naming it. */
export function clinicianFromPath(event: HttpEvent): string {
  const clinician = clinicianIdSchema.safeParse(event.pathParameters?.['clinicianId']);
  if (!clinician.success) throw badRequest('invalid_parameter', `clinicianId: ${issueMessage(clinician.error.issues[0]!)}`, { parameter: 'clinicianId' });
  return clinician.data;
}
