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

/**
 * The last sequence number of a shard that every consumer has handled, given each consumer's
 * checkpoint on it: records up to it are needed by no one and may go before retention takes them.
 * Undefined while a consumer has no checkpoint on this stream (none yet, or one taken on an
 * earlier stream): that consumer will read the shard from its start.
 */
export function handledThrough(checkpoints: readonly (Checkpoint | undefined)[], streamId: string): string | undefined {
  let lowest: bigint | undefined;
  for (const checkpoint of checkpoints) {
    const { after } = resumeAfter(checkpoint, streamId);
    if (after === undefined) return undefined;
    const sequence = BigInt(after);
    if (lowest === undefined || sequence < lowest) lowest = sequence;
  }
  return lowest?.toString();
}
