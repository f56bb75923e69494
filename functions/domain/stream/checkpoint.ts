import type { Checkpoint } from '../../ports';

/**
 * Where a consumer resumes a shard. A checkpoint taken on another stream (the same name, deleted
 * and created again) is worthless: the new stream numbers its records from 1 again, so resuming
 * after the old number would skip its first records. Starting the new stream at its beginning
 * loses nothing, and what was already handled (records read between the stream's change and
 * its detection) is handled again, which the consumers absorb: the aggregate dedupes by eventId,
 * the alert lifecycle by fingerprint. A checkpoint that names no stream predates the naming and
 * is trusted, as it was before.
 */
export function resumeAfter(checkpoint: Checkpoint | undefined, streamId: string): { readonly after: string | undefined; readonly reset: boolean } {
  if (checkpoint === undefined) return { after: undefined, reset: false };
  if (checkpoint.streamId === undefined || checkpoint.streamId === streamId) return { after: checkpoint.sequenceNumber, reset: false };
  return { after: undefined, reset: true };
}
