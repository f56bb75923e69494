import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses environment variables with a zod schema once, at start-up; a missing or bad value stops
 * start-up with a message naming each variable at fault.
 */
export function parseEnv<Schema extends z.ZodType>(schema: Schema, env: NodeJS.ProcessEnv = process.env): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new ConfigError(`Bad configuration: ${problems.join('; ')}`);
}

/** Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out. */
export const optionalString = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

export const kAnonymity = z.coerce.number().int().min(2).max(1000).default(10);
