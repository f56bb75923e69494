import type { z } from 'zod';

/**
 * What a zod issue tells the caller. zod words a missing field as a wrong type ("expected string,
 * received undefined"); a caller who left it out should read that it is required.
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return `is required (${issue.expected})`;
  return issue.message;
}
