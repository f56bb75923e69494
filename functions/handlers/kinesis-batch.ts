import type { KinesisStreamEvent } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import { decodeStoredEvent } from '../domain/events/stored';
import type { StoredEvent } from '../domain/events/schema';
import { openRecord, sealedHeader } from '../domain/privacy/sealed-record';
import type { Metrics } from '../ports';
import type { RecordKeyStore } from '../ports/record-keys';

export interface DecodedBatch {
  readonly events: StoredEvent[];
  /** The undecodable records, as a partial batch response names them: they reach the DLQ after the mapping's retries. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  /** Records sealed under a deleted key: an erased user's, skipped and acknowledged. */
  readonly erased: number;
}

export interface BatchDecoder {
  readonly consumer: string;
  readonly keys: Pick<RecordKeyStore, 'keysById'>;
  readonly logger: Pick<Logger, 'warn'>;
  readonly metrics: Pick<Metrics, 'count'>;
  /** Detect only: events keep the app's channel token (`DecodeOptions`). */
  readonly keepChannelTokens?: boolean;
}

/** Counted per consumer: how many records of erased users each one skipped. */
export const ERASED_RECORDS_METRIC = 'erased_records_skipped_total';

/**
 * The events of a Kinesis batch, and the poison records the consumer reports as failed while it
 * applies the rest. Records are opened with their users' keys, fetched once per batch. A record
 * whose key is gone belongs to an erased user: it is skipped and acknowledged, never retried or
 * dead-lettered (no retry can bring the key back). Plain JSON records, put on the stream before
 * sealing, are read as they are until they expire.
 */
export async function decodeBatch(event: KinesisStreamEvent, deps: BatchDecoder): Promise<DecodedBatch> {
  const records = event.Records.map((record) => {
    const data = Buffer.from(record.kinesis.data, 'base64');
    return { sequenceNumber: record.kinesis.sequenceNumber, data, header: sealedHeader(data) };
  });
  const keyIds = records.flatMap(({ header }) => (header.sealed ? [header.keyId] : []));
  const keys = keyIds.length > 0 ? await deps.keys.keysById(keyIds) : new Map<string, Uint8Array>();
  const events: StoredEvent[] = [];
  const batchItemFailures: { itemIdentifier: string }[] = [];
  let erased = 0;
  const poison = (sequenceNumber: string, reason: string) => {
    batchItemFailures.push({ itemIdentifier: sequenceNumber });
    deps.logger.warn('poison record', { sequenceNumber, reason });
  };
  for (const { sequenceNumber, data, header } of records) {
    let plaintext: Uint8Array = data;
    if (header.sealed) {
      const key = keys.get(header.keyId);
      if (key === undefined) {
        erased += 1;
        continue;
      }
      const opened = openRecord(data, key);
      if (opened === undefined) {
        poison(sequenceNumber, 'sealed record does not open under its key');
        continue;
      }
      plaintext = opened;
    }
    const decoded = decodeStoredEvent(plaintext, { keepChannelToken: deps.keepChannelTokens === true });
    if (decoded.ok) events.push(decoded.event);
    else poison(sequenceNumber, decoded.reason);
  }
  if (erased > 0) deps.metrics.count(ERASED_RECORDS_METRIC, erased, { consumer: deps.consumer });
  return { events, batchItemFailures, erased };
}
