import type { RejectionCode } from './validate';

/** Lines longer than an ingest request may be are refused unread: no event is that large. */
export const MAX_IMPORT_LINE_CHARS = 1024 * 1024;

/** The summary lists this many lines' errors; the counts by code cover every line. */
export const MAX_LISTED_ERRORS = 100;

export type ImportRejectionCode = Exclude<RejectionCode, 'duplicate_event_id' | 'stream_unavailable'> | 'malformed_line';

export interface ImportLineError {
  /** 1-based, blank lines counted, as an editor numbers them. */
  readonly line: number;
  readonly code: ImportRejectionCode;
  readonly message: string;
}

export interface ImportProgress {
  /** Lines holding something (blank lines are skipped). */
  readonly read: number;
  /** Events this run stored. */
  readonly accepted: number;
  /** Events stored before (by an earlier import or by ingest) or repeated in the file: nothing new. */
  readonly duplicates: number;
  readonly rejected: Readonly<Partial<Record<ImportRejectionCode, number>>>;
}

export interface ImportSummary extends ImportProgress {
  /** The first MAX_LISTED_ERRORS lines refused, in file order. */
  readonly errors: readonly ImportLineError[];
  /** Refused lines beyond those listed. */
  readonly errorsNotListed: number;
}

/** The file cannot be read to its end (a gzip file cut off or corrupt): what came before it is imported. */
export class UnreadableFileError extends Error {}

/**
 * The line's JSON object, or why it is none. The parser's own message is not passed on: it
 * quotes the text around the fault, which may be personal data the summary must not carry.
 */
export function parseLine(text: string): { value: unknown } | string {
  if (text.length > MAX_IMPORT_LINE_CHARS) return `over ${MAX_IMPORT_LINE_CHARS} characters: not one event`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON: each line must hold one event as a JSON object';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object: each line must hold one event';
  return { value };
}

