import { z } from 'zod';

/**
 * The bounds every input of the API shares, one definition each, so that no schema can forget
 * one: free text without control characters, instants within years a store and `Date` hold the
 * same way. Bad input is answered 400 naming its field; without these it reached PostgreSQL (a
 * NUL is no valid text there, year 0 no valid timestamp) and came back as a 500.
 */

// C0 (NUL, tab, newline included: no field of the API is multi-line), DEL and C1.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// Half of a UTF-16 pair on its own has no UTF-8; stores would keep U+FFFD for it, not what was sent.
const LONE_SURROGATE = /\p{Cs}/u;

export const PLAIN_TEXT_MESSAGE = 'must not contain control characters (C0, DEL, C1) or unpaired surrogates';

export function isPlainText(text: string): boolean {
  return !CONTROL_CHARACTER.test(text) && !LONE_SURROGATE.test(text);
}

/** A free-text field: `schema` with control characters refused. */
export function plainText<Schema extends z.ZodString>(schema: Schema): Schema {
  return schema.refine(isPlainText, { message: PLAIN_TEXT_MESSAGE });
}

/** An identifier a caller chooses (a rule's, a report schedule's): lower-case words joined by hyphens. */
export const slug = z
  .string()
  .max(64)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a slug like crisis-signal');

/** Instants the API takes: from 2000-01-01T00:00:00Z, before 2101-01-01T00:00:00Z. */
export const INSTANT_RANGE = { from: '2000-01-01T00:00:00Z', to: '2101-01-01T00:00:00Z' } as const;
const EARLIEST = Date.parse(INSTANT_RANGE.from);
const LATEST = Date.parse(INSTANT_RANGE.to);

export const INSTANT_RANGE_MESSAGE = `must be an instant from ${INSTANT_RANGE.from} and before ${INSTANT_RANGE.to}`;

/** An ISO-8601 calendar date that exists: `Date.parse` would read 2026-02-30 as 2 March. */
function isRealDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Epoch ms of an ISO-8601 text whose date exists and whose instant is in INSTANT_RANGE; NaN otherwise. */
export function boundedInstantMs(text: string): number {
  const at = isRealDate(text) ? Date.parse(text) : NaN;
  return at >= EARLIEST && at < LATEST ? at : NaN;
}

/** An ISO-8601 date-time with an offset, within INSTANT_RANGE. */
export const boundedInstant = z.iso.datetime({ offset: true }).refine((text) => !Number.isNaN(boundedInstantMs(text)), { message: INSTANT_RANGE_MESSAGE });
