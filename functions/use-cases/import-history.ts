import { MAX_LISTED_ERRORS, UnreadableFileError, parseLine, type ImportLineError, type ImportProgress, type ImportRejectionCode, type ImportSummary } from '../domain/events/history-import';
import { ConsentUnavailableError } from '../ports/consent';
import { isUnavailable } from '../ports/unavailable';
import type { AppliedEvents, RollupStore } from '../ports/rollups';
import { makeEventAdmission, type EventAdmissionDeps } from './ingest';

/** How many lines are admitted and applied together: one consent read and one store transaction each. */
export const IMPORT_BATCH_LINES = 500;

/** Ingest's admission (validation, PII refusal, consent, pseudonymisation), and the rollups that dedupe by eventId. */
export interface ImportHistoryDeps extends EventAdmissionDeps {
  /** The store's counts suffice: imported history is not live traffic, and counts in no usage metric. */
  readonly rollups: { applyEvents(events: Parameters<RollupStore['applyEvents']>[0]): Promise<Pick<AppliedEvents, 'applied' | 'duplicates'>> };
  readonly batchLines?: number;
}

/**
 * Imports history, one event per line (JSON Lines): each line admitted as ingest admits an event
 * but without the 30-day window, and stored straight into the rollups, not through the stream:
 * history must not wake the safety rules (a crisis signal of six weeks ago pages nobody now), and
 * the store's answer tells duplicates from new events. A line that is not a JSON object, or an
 * event refused, is reported by its line number and the import goes on; an import run again
 * changes nothing (every event a duplicate). A store or registry that does not answer ends the
 * import with that error: what was applied stays, and running it again completes it.
 */
export function makeImportHistory(deps: ImportHistoryDeps) {
  const batchLines = deps.batchLines ?? IMPORT_BATCH_LINES;
  const admit = makeEventAdmission(deps);

  return async function importHistory(lines: AsyncIterable<string>, onProgress?: (progress: ImportProgress) => void): Promise<ImportSummary> {
    let [read, accepted, duplicates, lineNumber, errorsNotListed] = [0, 0, 0, 0, 0];
    const rejected: Partial<Record<ImportRejectionCode, number>> = {};
    const errors: ImportLineError[] = [];
    const refuse = (line: number, code: ImportRejectionCode, message: string) => {
      rejected[code] = (rejected[code] ?? 0) + 1;
      if (errors.length < MAX_LISTED_ERRORS) errors.push({ line, code, message });
      else errorsNotListed += 1;
    };
    let batch: { line: number; raw: unknown }[] = [];

    const flush = async () => {
      if (batch.length === 0) return;
      const { admitted, rejected: refused } = await admit(
        batch.map((item) => item.raw),
        { freshness: false },
      );
      // Refusals come by place in the batch; in file order, as a reader of the errors expects.
      for (const refusal of [...refused].sort((a, b) => a.index - b.index)) {
        const line = batch[refusal.index]!.line;
        if (refusal.code === 'duplicate_event_id') duplicates += 1;
        else refuse(line, refusal.code as ImportRejectionCode, refusal.message);
      }
      if (admitted.length > 0) {
        const result = await deps.rollups.applyEvents(admitted.map((item) => item.stored));
        accepted += result.applied;
        duplicates += result.duplicates;
      }
      batch = [];
      onProgress?.({ read, accepted, duplicates, rejected: { ...rejected } });
    };

    for await (const text of lines) {
      lineNumber += 1;
      if (text.trim() === '') continue;
      read += 1;
      const raw = parseLine(text);
      if (typeof raw === 'string') refuse(lineNumber, 'malformed_line', raw);
      else batch.push({ line: lineNumber, raw: raw.value });
      if (batch.length >= batchLines) await flush();
    }
    await flush();
    return { read, accepted, duplicates, rejected, errors, errorsNotListed };
  };
}

export type ImportHistory = ReturnType<typeof makeImportHistory>;

/** Why an import stopped, as its caller reports it: a fault of the file (4xx) or of a store (503, run it again). */
export function importFailure(error: unknown): { status: number; code: string; message: string } | undefined {
  if (error instanceof UnreadableFileError) return { status: 400, code: 'unreadable_file', message: error.message };
  if (error instanceof ConsentUnavailableError) return { status: 503, code: 'consent_unavailable', message: 'the consent registry did not answer' };
  // Duck-typed: the store may answer from another thread (the local runtime folds history in its aggregator's).
  if (isUnavailable(error)) return { status: 503, code: 'unavailable', message: 'the database did not answer' };
  return undefined;
}
