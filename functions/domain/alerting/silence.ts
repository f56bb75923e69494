import { RE2JS } from 're2js';
import { z } from 'zod';
import { boundedInstant, plainText } from '../api/input-bounds';

export const MAX_SILENCE_DAYS = 30;
const MAX_MATCHERS = 16;
/** Bounds the work of a regex on every alert: a long pattern is the usual way to a slow one. */
export const MAX_MATCHER_VALUE_LENGTH = 256;
/**
 * RE2's program size is the work it does per character of a label: counted repeats make a short
 * pattern big (`.{1000}` alone is over 1,000), an Alertmanager-style matcher is a few dozen.
 */
export const MAX_PATTERN_PROGRAM_SIZE = 1_000;
const MAX_CACHED_PATTERNS = 512;

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

const compiled = new Map<string, RE2JS>();

/**
 * A matcher's pattern compiled by RE2 (linear in the label's length, no backtracking, so no
 * pattern can stall the detector), cached: every alert of every group is matched against every
 * active silence. Throws when RE2 refuses the pattern or it is over the size limit.
 */
export function compileMatcherPattern(pattern: string): RE2JS {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  const regex = RE2JS.compile(pattern);
  if (regex.programSize() > MAX_PATTERN_PROGRAM_SIZE) {
    throw new RangeError(`is too complex for a matcher: RE2 program size ${regex.programSize()}, at most ${MAX_PATTERN_PROGRAM_SIZE}`);
  }
  // First in, first out: patterns are few, and the evicted one only costs a compile.
  if (compiled.size >= MAX_CACHED_PATTERNS) compiled.delete(compiled.keys().next().value as string);
  compiled.set(pattern, regex);
  return regex;
}

/** Why a matcher's pattern is refused (RE2 syntax has no backreferences or lookarounds), or undefined. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compileMatcherPattern(pattern);
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) return error.message;
    return `is not a pattern RE2 accepts (no backreferences or lookarounds): ${error instanceof Error ? error.message : String(error)}`;
  }
}

const matcherSchema = z
  .strictObject({
    name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/, 'must be a label name'),
    value: plainText(z.string().max(MAX_MATCHER_VALUE_LENGTH)),
    isRegex: z.boolean().optional(),
    isEqual: z.boolean().optional(),
  })
  .superRefine((m, ctx) => {
    const problem = m.isRegex === true ? patternProblem(m.value) : undefined;
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  });

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

type SilenceRule = Pick<Silence, 'startsAt' | 'endsAt' | 'matchers'>;

function matcherMatches(matcher: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  // Alertmanager: a label the alert does not have has the empty value.
  const actual = labels[matcher.name] ?? '';
  // A full match, as Alertmanager anchors a regex matcher with ^(?:...)$.
  const hit = matcher.isRegex === true ? compileMatcherPattern(matcher.value).testExact(actual) : actual === matcher.value;
  return matcher.isEqual === false ? !hit : hit;
}

export function isSilenceActive(silence: Pick<Silence, 'startsAt' | 'endsAt'>, at: Date): boolean {
  return Date.parse(silence.startsAt) <= at.getTime() && at.getTime() < Date.parse(silence.endsAt);
}

/**
 * A silence mutes an alert when it is active and every one of its matchers matches. Throws when a
 * regex matcher cannot be compiled: `isSilenced` is the safe way in.
 */
export function silences(silence: SilenceRule, labels: Readonly<Record<string, string>>, at: Date): boolean {
  return isSilenceActive(silence, at) && silence.matchers.every((matcher) => matcherMatches(matcher, labels));
}

/**
 * Whether any silence mutes the alert. A silence that cannot be evaluated (a pattern stored
 * before RE2 was the engine, say) mutes nothing and is handed to `onBroken`: a broken silence
 * must cost a needless page, never a missed one.
 */
export function isSilenced<S extends SilenceRule>(all: readonly S[], labels: Readonly<Record<string, string>>, at: Date, onBroken: (silence: S, error: unknown) => void = () => undefined): boolean {
  return all.some((silence) => {
    try {
      return silences(silence, labels, at);
    } catch (error) {
      onBroken(silence, error);
      return false;
    }
  });
}
