import { z } from 'zod';
import { boundedInstant, plainText } from '../api/input-bounds';

export const MAX_SILENCE_DAYS = 30;
const MAX_MATCHERS = 16;
/** Bounds the work of a regex on every alert: a long pattern is the usual way to a slow one. */
export const MAX_MATCHER_VALUE_LENGTH = 256;

/** Alertmanager's matcher: `isEqual: false` negates; a regex is anchored at both ends. */
export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex?: boolean;
  readonly isEqual?: boolean;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly comment: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiredBy?: string;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

const matcherSchema = z
  .strictObject({
    name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/, 'must be a label name'),
    value: plainText(z.string().max(MAX_MATCHER_VALUE_LENGTH)),
    isRegex: z.boolean().optional(),
    isEqual: z.boolean().optional(),
  })
  .refine((m) => m.isRegex !== true || compiles(m.value), { message: 'is not a valid regular expression', path: ['value'] });

/** The body of `POST /v1/silences`. The window against the clock is checked by `silenceWindow`. */
export const silenceInputSchema = z
  .strictObject({
    matchers: z.array(matcherSchema).min(1).max(MAX_MATCHERS),
    startsAt: boundedInstant.optional(),
    endsAt: boundedInstant,
    comment: plainText(z.string().trim().min(1).max(500)),
  })
  .refine((s) => s.startsAt === undefined || Date.parse(s.endsAt) > Date.parse(s.startsAt), { message: 'must be after startsAt', path: ['endsAt'] })
  .refine((s) => s.startsAt === undefined || Date.parse(s.endsAt) - Date.parse(s.startsAt) <= MAX_SILENCE_DAYS * 86_400_000, {
    message: `a silence may last at most ${MAX_SILENCE_DAYS} days`,
    path: ['endsAt'],
  });

export type SilenceInput = z.infer<typeof silenceInputSchema>;

/**
 * The silence's window from `now`: it starts now unless told otherwise, must not have ended
 * already and may last at most 30 days. Answers the reason when refused.
 */
export function silenceWindow(input: SilenceInput, now: Date): { startsAt: Date; endsAt: Date } | { error: string } {
  const startsAt = input.startsAt === undefined ? now : new Date(input.startsAt);
  const endsAt = new Date(input.endsAt);
  if (endsAt.getTime() <= now.getTime()) return { error: 'endsAt: must be in the future' };
  if (endsAt.getTime() <= startsAt.getTime()) return { error: 'endsAt: must be after startsAt' };
  if (endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_DAYS * 86_400_000) return { error: `endsAt: a silence may last at most ${MAX_SILENCE_DAYS} days` };
  return { startsAt, endsAt };
}

function matcherMatches(matcher: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  // Alertmanager: a label the alert does not have has the empty value.
  const actual = labels[matcher.name] ?? '';
  const hit = matcher.isRegex === true ? new RegExp(`^(?:${matcher.value})$`, 'u').test(actual) : actual === matcher.value;
  return matcher.isEqual === false ? !hit : hit;
}

export function isSilenceActive(silence: Pick<Silence, 'startsAt' | 'endsAt'>, at: Date): boolean {
  return Date.parse(silence.startsAt) <= at.getTime() && at.getTime() < Date.parse(silence.endsAt);
}

/** A silence mutes an alert when it is active and every one of its matchers matches. */
export function silences(silence: Pick<Silence, 'startsAt' | 'endsAt' | 'matchers'>, labels: Readonly<Record<string, string>>, at: Date): boolean {
  return isSilenceActive(silence, at) && silence.matchers.every((matcher) => matcherMatches(matcher, labels));
}

export function isSilenced(all: readonly Pick<Silence, 'startsAt' | 'endsAt' | 'matchers'>[], labels: Readonly<Record<string, string>>, at: Date): boolean {
  return all.some((silence) => silences(silence, labels, at));
}
