import { randomBytes } from 'node:crypto';
import type { Clock, EventStreamWriter, Sleep, StreamRecordInput } from '../ports';
import { ConsentUnavailableError, type ConsentRegistry } from '../ports/consent';
import { RecordKeysUnavailableError, type RecordKeyStore } from '../ports/record-keys';
import { IV_BYTES, sealRecord, type RecordKey } from '../domain/privacy/sealed-record';
import type { StoredEvent } from '../domain/events/schema';
import { consents, type ConsentRecord } from '../domain/privacy/consent';
import { toStoredEvent, validateEvent, type Pseudonymisers, type Rejection } from '../domain/events/validate';

export interface EventAdmissionDeps {
  readonly consent: Pick<ConsentRegistry, 'getMany'>;
  readonly pseudonymise: Pseudonymisers;
  readonly clock: Clock;
}

export interface IngestDeps extends EventAdmissionDeps {
  readonly stream: EventStreamWriter;
  /** Each user's key: their records are sealed under it, so erasing the key erases the records. */
  readonly keys: Pick<RecordKeyStore, 'keysFor'>;
  readonly sleep: Sleep;
  /** Attempts of PutRecords for records the stream turned away (throttling, internal errors). */
  readonly putAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly random?: () => number;
}

export interface IngestResult {
  readonly accepted: number;
  readonly rejected: Rejection[];
}

export interface IngestOptions {
  /** Off for the history import, which brings events older than the live window. */
  readonly freshness: boolean;
}

/** The events a batch admits (by their place in it), and the rest with why. */
export interface Admitted {
  /**
   * `channelToken`: the app's token for an intervention, given only for a user with
   * safety-monitoring consent; kept out of `stored`, so that only the live stream's record takes it.
   */
  readonly admitted: { readonly index: number; readonly stored: StoredEvent; readonly channelToken?: string }[];
  readonly rejected: Rejection[];
}

const encoder = new TextEncoder();

/**
 * What ingest and the history import both do before an event is kept: each event validated on
 * its own (PII refused), pseudonymised, repeats of an eventId in the batch refused, and only
 * events of users with analytics consent admitted (opt-in: no record is no consent), marked with
 * the other scopes their user gave. Throws ConsentUnavailableError when the registry does not answer.
 */
export function makeEventAdmission(deps: EventAdmissionDeps) {
  return async function admit(rawEvents: readonly unknown[], options: IngestOptions): Promise<Admitted> {
    const now = deps.clock.now();
    const rejected: Rejection[] = [];
    const valid: { index: number; stored: StoredEvent; channelToken?: string }[] = [];
    const seenIds = new Set<string>();

    rawEvents.forEach((raw, index) => {
      const validation = validateEvent(raw, now, options);
      if (!validation.ok) {
        rejected.push({ index, code: validation.code, message: validation.message });
        return;
      }
      const stored: StoredEvent = toStoredEvent(validation.event, deps.pseudonymise, now);
      if (seenIds.has(stored.eventId)) {
        rejected.push({ index, code: 'duplicate_event_id', message: `eventId: ${stored.eventId} appears earlier in this request` });
        return;
      }
      seenIds.add(stored.eventId);
      const channelToken = validation.event.context?.channelToken;
      valid.push(channelToken === undefined ? { index, stored } : { index, stored, channelToken });
    });

    let consent = new Map<string, ConsentRecord>();
    try {
      if (valid.length > 0) consent = await deps.consent.getMany(valid.map((item) => item.stored.subject));
    } catch (error) {
      throw new ConsentUnavailableError('the consent registry did not answer', { cause: error });
    }
    const admitted: Admitted['admitted'] = [];
    for (const { index, stored, channelToken } of valid) {
      const record = consent.get(stored.subject);
      if (!consents(record, 'analytics')) {
        rejected.push({ index, code: 'consent_missing', message: 'userId: the user has not given analytics consent; the event was not stored' });
        continue;
      }
      const marked: StoredEvent = {
        ...stored,
        ...(consents(record, 'research') && { research: true }),
        ...(consents(record, 'safety_monitoring') && { safety: true }),
      };
      admitted.push(marked.safety && channelToken !== undefined ? { index, stored: marked, channelToken } : { index, stored: marked });
    }
    return { admitted, rejected };
  };
}

/**
 * Admits the events (makeEventAdmission), seals each under its user's key (the partition key is the
 * key's random id, not the pseudonym) and puts them on the stream. Only events the stream took
 * count as accepted: records it turns away are retried with exponential backoff and full jitter,
 * and still-failing ones are reported `stream_unavailable` so the client retries them (the
 * aggregator dedupes by eventId, so a retry never counts twice).
 */
export function makeIngest(deps: IngestDeps) {
  const putAttempts = deps.putAttempts ?? 4;
  const backoffBaseMs = deps.backoffBaseMs ?? 25;
  const random = deps.random ?? Math.random;
  const admit = makeEventAdmission(deps);

  return async function ingest(rawEvents: readonly unknown[], options: IngestOptions = { freshness: true }): Promise<IngestResult> {
    const { admitted: consenting, rejected } = await admit(rawEvents, options);
    let keys = new Map<string, RecordKey>();
    try {
      if (consenting.length > 0) keys = await deps.keys.keysFor(consenting.map((item) => item.stored.subject));
    } catch (error) {
      throw new RecordKeysUnavailableError('the record key store did not answer', { cause: error });
    }
    const pending: { index: number; record: StreamRecordInput }[] = consenting.map(({ index, stored, channelToken }) => {
      const key = keys.get(stored.subject);
      if (key === undefined) throw new Error('the record key store answered no key for a user');
      const onStream: StoredEvent = channelToken === undefined ? stored : { ...stored, channelToken };
      return { index, record: { partitionKey: key.keyId, data: sealRecord(key, encoder.encode(JSON.stringify(onStream)), randomBytes(IV_BYTES)) } };
    });

    let accepted = 0;
    let toPut = pending;
    let lastError = '';
    for (let attempt = 1; toPut.length > 0 && attempt <= putAttempts; attempt += 1) {
      if (attempt > 1) await deps.sleep(random() * backoffBaseMs * 2 ** (attempt - 1));
      const results = await deps.stream.putRecords(toPut.map((item) => item.record));
      const failed: typeof toPut = [];
      results.forEach((result, position) => {
        const item = toPut[position];
        if (item === undefined) return;
        if (result.ok) accepted += 1;
        else {
          failed.push(item);
          lastError = `${result.errorCode}: ${result.errorMessage}`;
        }
      });
      toPut = failed;
    }
    for (const item of toPut) {
      rejected.push({ index: item.index, code: 'stream_unavailable', message: `the stream did not take the event after ${putAttempts} attempts (${lastError}); retry it` });
    }
    rejected.sort((a, b) => a.index - b.index);
    return { accepted, rejected };
  };
}

export type Ingest = ReturnType<typeof makeIngest>;
