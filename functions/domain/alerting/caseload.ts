import { z } from 'zod';
import { userIdSchema } from '../events/schema';

/** A clinician's id as the identity provider puts it in the token's `sub`, and in the path. */
export const clinicianIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/, 'must be 1 to 128 letters, digits and . _ : @ -, beginning with a letter or digit');

/** The most users one PUT assigns: a caseload, not a population. */
export const MAX_CASELOAD = 5_000;

/** The body of `PUT /v1/clinicians/{clinicianId}/users`: the clinician's whole caseload, replacing the last. */
export const caseloadBodySchema = z.strictObject({
  userIds: z
    .array(userIdSchema)
    .max(MAX_CASELOAD)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a user id'),
});
export type CaseloadBody = z.infer<typeof caseloadBodySchema>;
