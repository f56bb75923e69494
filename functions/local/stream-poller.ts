import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { jsonLogger, type Logger } from '../adapters/log';
import { ForeignSequenceNumberError, type Checkpoint, type CheckpointStore, type Clock, type DeadLetter, type DeadLetterQueue, type EventStreamReader, type Sleep, type StreamRecord } from '../ports';
import { isUnavailable } from '../ports/unavailable';
import { resumeAfter } from '../domain/stream/checkpoint';

/**
 * The local runtime's player of a Lambda Kinesis event source mapping: one consumer, every shard
 * in order, with the mapping's batching, retries, bisection, partial batch responses, maximum
 * record age and on-failure destination, so a handler behaves here as it does in AWS.
 */

export type StreamHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | void>;

export type PollerLogger = Pick<Logger, 'warn' | 'error'>;

export interface StreamPollerOptions {
  readonly consumer: string;
  readonly reader: EventStreamReader;
  readonly checkpoints: CheckpointStore;
  readonly deadLetters: DeadLetterQueue;
  readonly handler: StreamHandler;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly eventSourceArn?: string;
  readonly batchSize?: number;
  readonly maxBatchingWindowMs?: number;
  readonly pollIntervalMs?: number;
  /** Retries after the first failed invocation. Finite, so a poison record never blocks a shard. */
  readonly retryAttempts?: number;
  readonly bisectBatchOnError?: boolean;
  /** Records older than this go to the dead-letter queue instead of the handler; unset: no limit. */
  readonly maxRecordAgeMs?: number;
  /**
   * Awaited before each poll of the loop: a consumer that shares a thread and a database with
   * another that goes first (the aggregate consumer with the detect consumer) waits here.
   */
  readonly giveWay?: () => Promise<void>;
  readonly logger?: PollerLogger;
}

const DEFAULTS = {
  eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/local',
  batchSize: 100,
  maxBatchingWindowMs: 0,
  pollIntervalMs: 1_000,
  retryAttempts: 2,
  bisectBatchOnError: false,
  maxRecordAgeMs: Number.POSITIVE_INFINITY,
  giveWay: (): Promise<void> => Promise.resolve(),
};

const KNOWN_OPTIONS = new Set([
  ...Object.keys(DEFAULTS),
  ...['consumer', 'reader', 'checkpoints', 'deadLetters', 'handler', 'clock', 'sleep', 'logger'],
]);

/** A run of consecutive records of one shard and the failed invocations it has had so far. */
export interface Segment {
  readonly records: readonly StreamRecord[];
  readonly attempts: number;
}

export type InvocationOutcome =
  | { readonly kind: 'success' }
  /** `failedIndex`: the lowest reported failure; the records before it are done. */
  | { readonly kind: 'partial'; readonly failedIndex: number }
  | { readonly kind: 'error'; readonly message: string };

/** What to do after an invocation; `then` is the work that follows, in shard order. */
export type Step =
  | { readonly kind: 'done' }
  | { readonly kind: 'retry'; readonly succeeded: number; readonly then: readonly Segment[] }
  | {
      readonly kind: 'deadLetter';
      readonly failed: readonly StreamRecord[];
      readonly reason: string;
      readonly attempts: number;
      readonly then: readonly Segment[];
    };

/** Reads a handler's answer as Lambda does: an unknown item identifier fails the whole batch. */
export function outcomeOf(records: readonly StreamRecord[], response: KinesisStreamBatchResponse | void): InvocationOutcome {
  const failures: unknown = response ? response.batchItemFailures : undefined;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'error', message: 'batchItemFailures is not an array' };
  if (failures.length === 0) return { kind: 'success' };
  let failedIndex = records.length;
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index = records.findIndex((record) => record.sequenceNumber === id);
    if (index < 0) return { kind: 'error', message: `batchItemFailures names an unknown itemIdentifier: ${String(id)}` };
    failedIndex = Math.min(failedIndex, index);
  }
  return { kind: 'partial', failedIndex };
}

export function splitInHalves<T>(items: readonly T[]): [T[], T[]] {
  const middle = Math.ceil(items.length / 2);
  return [items.slice(0, middle), items.slice(middle)];
}

/**
 * The mapping's failure policy. A partial failure retries from the first failed record; once
 * retries run out only that record is dead-lettered and the rest of the segment starts afresh,
 * since the handler may have stopped at the failure. A thrown error retries the whole segment,
 * or splits it when bisecting (a split is not a retry, so bisection can reach a single record).
 */
export function nextStep(
  segment: Segment,
  outcome: InvocationOutcome,
  policy: { readonly retryAttempts: number; readonly bisectBatchOnError: boolean },
): Step {
  const attempts = segment.attempts + 1;
  switch (outcome.kind) {
    case 'success':
      return { kind: 'done' };
    case 'partial': {
      const rest = segment.records.slice(outcome.failedIndex);
      if (attempts <= policy.retryAttempts) {
        return { kind: 'retry', succeeded: outcome.failedIndex, then: [{ records: rest, attempts }] };
      }
      const after = rest.slice(1);
      return {
        kind: 'deadLetter',
        failed: rest.slice(0, 1),
        reason: 'BatchItemFailure',
        attempts,
        then: after.length > 0 ? [{ records: after, attempts: 0 }] : [],
      };
    }
    case 'error': {
      if (policy.bisectBatchOnError && segment.records.length > 1) {
        const halves = splitInHalves(segment.records);
        return { kind: 'retry', succeeded: 0, then: halves.map((records) => ({ records, attempts: segment.attempts })) };
      }
      if (attempts <= policy.retryAttempts) {
        return { kind: 'retry', succeeded: 0, then: [{ records: segment.records, attempts }] };
      }
      return { kind: 'deadLetter', failed: segment.records, reason: `FunctionError: ${outcome.message}`, attempts, then: [] };
    }
  }
}

/** How many leading records are older than `maxAgeMs`; only a prefix, so checkpoints never skip a fresh record. */
export function expiredPrefixLength(records: readonly StreamRecord[], now: Date, maxAgeMs: number): number {
  const index = records.findIndex((record) => now.getTime() - record.approximateArrivalTimestamp.getTime() <= maxAgeMs);
  return index < 0 ? records.length : index;
}

export function toKinesisEvent(records: readonly StreamRecord[], eventSourceArn: string): KinesisStreamEvent {
  const awsRegion = eventSourceArn.split(':')[3] ?? 'us-east-1';
  const account = eventSourceArn.split(':')[4] ?? '000000000000';
  return {
    Records: records.map(
      (record): KinesisStreamRecord => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: record.partitionKey,
          sequenceNumber: record.sequenceNumber,
          data: Buffer.from(record.data).toString('base64'),
          approximateArrivalTimestamp: record.approximateArrivalTimestamp.getTime() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${record.shardId}:${record.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: `arn:aws:iam::${account}:role/local-stream-poller`,
        awsRegion,
        eventSourceARN: eventSourceArn,
      }),
    ),
  };
}

export function toDeadLetter(consumer: string, failed: readonly StreamRecord[], reason: string, attempts: number): DeadLetter {
  const first = failed[0];
  const last = failed[failed.length - 1];
  if (!first || !last) throw new RangeError('a dead letter needs at least one record');
  return {
    consumer,
    shardId: first.shardId,
    firstSequenceNumber: first.sequenceNumber,
    lastSequenceNumber: last.sequenceNumber,
    reason,
    attempts,
    records: failed.map((record) => ({
      sequenceNumber: record.sequenceNumber,
      partitionKey: record.partitionKey,
      data: Buffer.from(record.data).toString('base64'),
    })),
  };
}

/** The longest wait between attempts while a store is unreachable. */
const MAX_BACKOFF_MS = 5_000;

/** What the poller's owner reports on /health. */
export interface PollerStatus {
  readonly running: boolean;
  /** When the loop last finished a poll, whatever its outcome: a loop that stops advancing this is stuck. */
  readonly lastPollAt: Date | undefined;
  /** Polls and invocations in a row that failed because a store was unreachable or the poll threw. */
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
}

export class StreamPoller {
  private readonly options: Required<StreamPollerOptions>;
  private lastPollAt: Date | undefined;
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  /** Per shard, the checkpoint last read or written; undefined: from the shard's start. */
  private readonly positions = new Map<string, Checkpoint | undefined>();
  /** The stream as the poll in progress found it: its checkpoints are written as taken on it. */
  private streamId = '';
  private turn: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  /** Whether the loop's last poll filled a batch: more records wait. */
  private backlogged = false;
  private readonly waitingForTip: (() => void)[] = [];

  constructor(options: StreamPollerOptions) {
    const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key));
    if (unknown.length > 0) throw new TypeError(`unknown stream poller options: ${unknown.join(', ')}`);
    // An option passed as undefined (an unset configuration value) keeps its default.
    const given: Partial<StreamPollerOptions> = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = { ...DEFAULTS, logger: jsonLogger('stream-poller'), ...given } as Required<StreamPollerOptions>;
    const { batchSize, retryAttempts, maxRecordAgeMs, pollIntervalMs, maxBatchingWindowMs } = this.options;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new RangeError('batchSize must be 1..10000');
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0) throw new RangeError('retryAttempts must be a whole number');
    if (!(maxRecordAgeMs > 0)) throw new RangeError('maxRecordAgeMs must be positive');
    if (!(pollIntervalMs >= 0) || !(maxBatchingWindowMs >= 0)) throw new RangeError('intervals must not be negative');
  }

  /** Polls every shard until `stop()`. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    // Behind until a poll says otherwise: a consumer giving way to this one does not slip in before its first poll.
    this.backlogged = true;
    this.loop = this.run();
  }

  /** Resolves once the batch in flight is handled and checkpointed, so an interrupt loses nothing. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Polls now instead of at the end of the idle interval: the local runtime's stand-in for
   * enhanced fan-out, which pushes a record to its consumer as it arrives.
   */
  nudge(): void {
    this.wake?.();
  }

  /** One batch per shard, without waiting for a batching window; answers how many records it took. */
  pollOnce(): Promise<number> {
    return this.exclusively(() => this.pollShards(false));
  }

  /** Everything available now, then resolves (tests, benchmarks, the import command). */
  async drain(): Promise<void> {
    while ((await this.pollOnce()) > 0);
  }

  /**
   * Resolves once the loop has read up to the end of the stream (a poll that found less than a
   * batch) or stopped, or after `atMostMs`: a consumer that gives way must not halt for good when
   * this one is stuck.
   */
  caughtUp(atMostMs: number): Promise<void> {
    if (!this.backlogged || this.loop === undefined) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve) => {
      this.waitingForTip.push(resolve);
      timer = setTimeout(resolve, atMostMs);
    }).finally(() => clearTimeout(timer));
  }

  status(): PollerStatus {
    return { running: this.loop !== undefined && !this.stopping, lastPollAt: this.lastPollAt, consecutiveFailures: this.consecutiveFailures, lastError: this.lastError };
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let taken = 0;
      try {
        await this.options.giveWay();
        taken = await this.exclusively(() => this.pollShards(true));
        this.recovered();
      } catch (error) {
        this.failed(error);
        this.options.logger.error('stream poll failed', { consumer: this.options.consumer, error: messageOf(error), failures: this.consecutiveFailures });
      }
      this.lastPollAt = this.options.clock.now();
      this.backlogged = !this.stopping && taken >= this.options.batchSize;
      if (!this.backlogged) for (const resolve of this.waitingForTip.splice(0)) resolve();
      if (this.stopping) break;
      // After a failure (the checkpoint store unreachable, say) the next poll waits longer each time, not the 100 ms of an idle shard.
      if (this.consecutiveFailures > 0) await this.idle(this.backoffMs());
      else if (taken === 0) await this.idle(this.options.pollIntervalMs);
    }
  }

  private failed(error: unknown): void {
    this.consecutiveFailures += 1;
    this.lastError = messageOf(error);
  }

  private recovered(): void {
    if (this.consecutiveFailures > 0) this.options.logger.warn('stream consumer recovered', { consumer: this.options.consumer, failures: this.consecutiveFailures });
    this.consecutiveFailures = 0;
    this.lastError = undefined;
  }

  private backoffMs(): number {
    return Math.min(Math.max(this.options.pollIntervalMs, 100) * 2 ** (this.consecutiveFailures - 1), MAX_BACKOFF_MS);
  }

  private idle(ms: number): Promise<void> {
    return Promise.race([this.options.sleep(ms), new Promise<void>((resolve) => (this.wake = resolve))]);
  }

  /** `start()` and `drain()` may overlap; a shard must still see one batch at a time. */
  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const result = this.turn.then(work);
    this.turn = result.catch(() => undefined);
    return result;
  }

  private async pollShards(batching: boolean): Promise<number> {
    let taken = 0;
    // Asked before the reads: if the stream is replaced during them, what they took is checkpointed
    // as of the earlier stream, so the next poll sees the change and reads the new one from its start.
    this.streamId = await this.options.reader.streamId();
    for (const shardId of await this.options.reader.listShards()) {
      if (batching && this.stopping) break;
      taken += await this.pollShard(shardId, batching);
    }
    return taken;
  }

  private async pollShard(shardId: string, batching: boolean): Promise<number> {
    const { reader, batchSize, maxBatchingWindowMs, clock, sleep } = this.options;
    let records = await this.readFromPosition(shardId);
    const oldest = records[0];
    if (batching && oldest && records.length < batchSize && maxBatchingWindowMs > 0) {
      const waited = clock.now().getTime() - oldest.approximateArrivalTimestamp.getTime();
      if (waited < maxBatchingWindowMs) {
        await sleep(maxBatchingWindowMs - waited);
        // Only what arrived during the wait: a shard's sequence numbers become visible in order, so
        // the records already read are the start of what a fresh read from `after` would answer,
        // and reading them again would only cost the stream (and the writers waiting on it) time.
        const last = records[records.length - 1] as StreamRecord;
        records = [...records, ...(await reader.readShard(shardId, last.sequenceNumber, batchSize - records.length))];
      }
    }
    if (records.length > 0) await this.process(shardId, records);
    return records.length;
  }

  /**
   * A checkpoint past the shard's records (a stream file restored from an older copy keeps its id
   * but not its later records) is reset to the shard's start, for the reason `resumeAfter` gives.
   */
  private async readFromPosition(shardId: string): Promise<StreamRecord[]> {
    const { reader, batchSize, consumer, logger } = this.options;
    const after = await this.position(shardId);
    try {
      return await reader.readShard(shardId, after, batchSize);
    } catch (error) {
      if (!(error instanceof ForeignSequenceNumberError) || after === undefined) throw error;
      logger.warn('checkpoint is not a sequence number of this shard; reading it from its start', { consumer, shardId, checkpoint: after });
      this.positions.set(shardId, undefined);
      return reader.readShard(shardId, undefined, batchSize);
    }
  }

  private async process(shardId: string, records: readonly StreamRecord[]): Promise<void> {
    const { handler, eventSourceArn, clock, maxRecordAgeMs } = this.options;
    const queue: Segment[] = [{ records, attempts: 0 }];
    for (let segment = queue.shift(); segment; segment = queue.shift()) {
      const expired = expiredPrefixLength(segment.records, clock.now(), maxRecordAgeMs);
      if (expired > 0) {
        await this.deadLetter(shardId, segment.records.slice(0, expired), 'MaximumRecordAgeExceeded', segment.attempts);
        if (expired === segment.records.length) continue;
        segment = { records: segment.records.slice(expired), attempts: segment.attempts };
      }
      let outcome: InvocationOutcome;
      try {
        outcome = outcomeOf(segment.records, await handler(toKinesisEvent(segment.records, eventSourceArn)));
      } catch (error) {
        if (isUnavailable(error)) {
          // Not the records' fault: the same batch, whole, once the store is back. Spending the
          // retry budget (and bisecting) here would dead-letter good records during an outage.
          this.failed(error);
          this.options.logger.error('stream batch waits for an unavailable store', { consumer: this.options.consumer, shardId, records: segment.records.length, error: messageOf(error), failures: this.consecutiveFailures });
          // Stopping leaves the batch unprocessed and unacknowledged: the next start takes it from the checkpoint.
          if (this.stopping) return;
          await this.idle(this.backoffMs());
          if (this.stopping) return;
          queue.unshift(segment);
          continue;
        }
        outcome = { kind: 'error', message: messageOf(error) };
      }
      this.recovered();
      const step = nextStep(segment, outcome, this.options);
      if (step.kind === 'done') {
        await this.checkpoint(shardId, segment.records[segment.records.length - 1]);
        continue;
      }
      if (step.kind === 'retry') {
        this.options.logger.warn('stream batch failed, retrying', {
          consumer: this.options.consumer,
          shardId,
          records: segment.records.length,
          attempt: segment.attempts + 1,
          failure: outcome.kind === 'error' ? outcome.message : outcome.kind,
        });
        await this.checkpoint(shardId, segment.records[step.succeeded - 1]);
      } else {
        await this.deadLetter(shardId, step.failed, step.reason, step.attempts);
      }
      queue.unshift(...step.then);
    }
  }

  private async deadLetter(shardId: string, failed: readonly StreamRecord[], reason: string, attempts: number): Promise<void> {
    const { consumer, deadLetters, logger } = this.options;
    const letter = toDeadLetter(consumer, failed, reason, attempts);
    logger.warn('stream records sent to the dead-letter queue', {
      consumer,
      shardId,
      reason,
      firstSequenceNumber: letter.firstSequenceNumber,
      lastSequenceNumber: letter.lastSequenceNumber,
    });
    await deadLetters.send(letter);
    await this.checkpoint(shardId, failed[failed.length - 1]);
  }

  private async position(shardId: string): Promise<string | undefined> {
    if (!this.positions.has(shardId)) {
      this.positions.set(shardId, await this.options.checkpoints.get(this.options.consumer, shardId));
    }
    const checkpoint = this.positions.get(shardId);
    const { after, reset } = resumeAfter(checkpoint, this.streamId);
    if (reset) {
      this.options.logger.warn('checkpoint taken on an earlier stream of this name; reading the new one from its start', {
        consumer: this.options.consumer,
        shardId,
        checkpoint: checkpoint?.sequenceNumber,
      });
      // Only in memory until the first record of the new stream is checkpointed: a crash before
      // then finds the old checkpoint again and resets again.
      this.positions.set(shardId, undefined);
    }
    return after;
  }

  private async checkpoint(shardId: string, record: StreamRecord | undefined): Promise<void> {
    if (!record) return;
    const checkpoint = { sequenceNumber: record.sequenceNumber, streamId: this.streamId };
    await this.options.checkpoints.set(this.options.consumer, shardId, checkpoint);
    this.positions.set(shardId, checkpoint);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
