import type { KinesisStreamEvent } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import { decodeStoredEvent } from '../domain/events/stored';
import type { StoredEvent } from '../domain/events/schema';

export interface DecodedBatch {
  readonly events: StoredEvent[];
  /** The undecodable records, as a partial batch response names them: they reach the DLQ after the mapping's retries. */
  readonly batchItemFailures: { itemIdentifier: string }[];
}

/** The events of a Kinesis batch, and the poison records the consumer reports as failed while it applies the rest. */
export function decodeBatch(event: KinesisStreamEvent, logger: Pick<Logger, 'warn'>): DecodedBatch {
  const events: StoredEvent[] = [];
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const decoded = decodeStoredEvent(Buffer.from(record.kinesis.data, 'base64'));
    if (decoded.ok) events.push(decoded.event);
    else {
      batchItemFailures.push({ itemIdentifier: record.kinesis.sequenceNumber });
      logger.warn('poison record', { sequenceNumber: record.kinesis.sequenceNumber, reason: decoded.reason });
    }
  }
  return { events, batchItemFailures };
}
