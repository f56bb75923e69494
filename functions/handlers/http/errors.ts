import type { z } from 'zod';
import { describeIssue } from '../../domain/events/validate';

/** An error with the status and body the API answers: `{"error": {"code", "message", "details"?}}`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new HttpError(400, code, message, details);

/** 400 for a JSON body its schema refused, naming the first field at fault (an unknown one too). */
export function invalidBody(issues: readonly z.core.$ZodIssue[]): HttpError {
  const [first] = issues;
  if (!first) return badRequest('invalid_request', 'the body is not valid');
  if (first.code === 'unrecognized_keys') {
    // A key may be the empty string: quoted, it is still named.
    const field = first.keys.map((key) => (key === '' ? '""' : key)).join(', ');
    return badRequest('invalid_request', `${field}: unknown field`, { field });
  }
  // No field to name: the body itself is of the wrong type (an array, a string, null).
  if (first.path.length === 0) return badRequest('body_not_object', `the body must be a JSON object: ${first.message}`);
  return badRequest('invalid_request', describeIssue(first), { field: first.path.join('.') });
}
