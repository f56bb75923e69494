import { setPriority } from 'node:os';
import { Worker, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { LocalConfig } from '../config/local';
import { jsonLogger, type Logger } from '../adapters/log';
import { postgresDatabase, type SqlDatabase } from '../adapters/pg/database';
import { embeddedDatabaseClient } from '../adapters/pg/pglite-database';
import { SqlCheckpointStore } from '../adapters/pg/sql-checkpoint-store';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { AGGREGATE_BATCH_SIZE, REALTIME_CHANNEL, makeAggregate } from '../use-cases/aggregate';
import { ALERT_FEED_CHANNEL } from '../adapters/dashboard-channel';
import { makeAggregateHandler } from '../handlers/aggregate';
import { makeRollUp, ROLL_UP_EVERY_MS } from '../use-cases/roll-up';
import { makePurge } from '../use-cases/purge';
import { REWRITTEN_TABLES, VACUUM_EVERY_MS, makeVacuum } from '../adapters/pg/sql-vacuum';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import { SqlOperationalMinutes } from '../adapters/pg/sql-operational-minutes';
import { SqlAlertStore } from '../adapters/pg/sql-alert-store';
import { SqlRecipientStore } from '../adapters/pg/sql-recipient-store';
import { SqlInterventionStore } from '../adapters/pg/sql-intervention-store';
import { SqlConditionStore } from '../adapters/pg/sql-condition-store';
import { SqlReportIndex } from '../adapters/pg/sql-report-index';
import { retentionPolicy } from '../config/env';
import { minuteRollupCutoff } from '../domain/privacy/retention';
import { replyError, threadCaller, workerReady, type ThreadCaller, type ThreadReply } from '../adapters/thread-calls';
import { RepeatingJob } from './repeating-job';
import { StreamPoller, type PollerStatus } from './stream-poller';
import { STREAM_CONSUMERS, openLiveStore, openObjectStore, openRecordKeys, openStream, sleep, systemClock } from './adapters';
import { startDetectConsumer } from './monitoring';
import type { LiveStore, Metrics } from '../ports';
import { StoreUnavailableError } from '../ports/unavailable';
import type { StoredEvent } from '../domain/events/schema';

/** The stack's event source mapping settings for the aggregate function, but for the batching window (2 s there). */
const AGGREGATE_MAPPING = { batchSize: AGGREGATE_BATCH_SIZE, maxBatchingWindowMs: 200, retryAttempts: 5, bisectBatchOnError: true, maxRecordAgeMs: 3_600_000 } as const;

/**
 * How long a poll of the aggregate consumer waits for the detect consumer to reach the end of the
 * stream. In AWS each has a function and a fan-out consumer of its own; here they share this
 * thread and the analytics database, and a burst of live safety signals (the end of the demo's
 * traffic) left detect as far behind as aggregate, 160 s, when both took turns. Aggregate, whose
 * records may wait an hour, lets detect's batches go first; a bounded wait, so that a stuck detect
 * consumer (which /health and the lag alert report) does not stop counting too.
 */
const GIVE_WAY_AT_MOST_MS = 2_000;

/**
 * Daily in the stack; every 10 minutes here, where a runtime seldom lives a day and a history
 * import (the demo) writes weeks of rows in minutes: purged within the import, the minute rows
 * past their retention (two thirds of the demo's: 14 of its 21 days) give their space to the rows
 * written after them; purged an hour later, they had taken space of their own for good.
 */
const PURGE_EVERY_MS = 10 * 60_000;
const PURGE_FIRST_AFTER_MS = 2 * ROLL_UP_EVERY_MS;

/**
 * In AWS the aggregate function never shares a CPU with ingest. In one process it did: its
 * batches (folding rollups, serialising sketches, and the garbage that leaves) ran on the event
 * loop that answers HTTP, and an ingest request that arrived during one waited for it (main
 * thread busy stretches of 20-85 ms, 235 of them over 10 ms in 45 s of ingest at 1,000 events/s).
 * Here the poller and the aggregate handler run in a worker thread of their own, with a heap and
 * garbage collector of their own, at a lower scheduling priority than HTTP.
 */
const NICENESS = 10;

interface ThreadData {
  readonly config: LocalConfig;
  /** Embedded mode: connections to the main thread's PGlite databases. */
  readonly analytics?: MessagePort;
  /** The detect consumer's urgent connection to the analytics database. */
  readonly safety?: MessagePort;
  readonly streaming?: MessagePort;
}

/** The live store operations the main thread makes on the thread's store (in-process in the embedded mode): erasure, the monitor's dashboard feed, the live view's first counters. */
const LIVE_OPERATIONS = ['removeFromSet', 'range', 'removeFromList', 'pushCapped', 'publish', 'getHash'] as const;
type LiveOperation = (typeof LIVE_OPERATIONS)[number];
export type ThreadLiveStore = Pick<LiveStore, LiveOperation>;

/** The channels whose publications the thread passes to the main thread, for the live view. */
export const LIVE_CHANNELS = [REALTIME_CHANNEL, ALERT_FEED_CHANNEL] as const;
interface Publication {
  readonly channel: string;
  readonly message: string;
}

/** A count or a measurement the thread reports to the runtime's metrics (replies to calls carry an id instead). */
interface MetricMessage {
  readonly kind: keyof Metrics;
  readonly name: string;
  readonly value: number;
  readonly dimensions?: Readonly<Record<string, string>>;
}

type Request =
  | { id: number; op: 'drain' | 'detect' | 'nudge' | 'roll-up' | 'status' | 'stop' }
  | { id: number; op: 'live'; method: LiveOperation; args: unknown[] }
  | { id: number; op: 'history'; events: StoredEvent[] };

/** A thread that comes back after a crash waits this long first, doubling per crash in a row. */
const RESTART_BACKOFF_MS = { first: 1_000, max: 30_000 } as const;
/** A thread that ran this long before it died counts as healthy: the next restart waits the least again. */
const STABLE_AFTER_MS = 60_000;
/** How long the health check waits for the thread to answer: longer, and its event loop is stuck. */
const STATUS_TIMEOUT_MS = 2_000;
/**
 * The watchdog asks the thread for its status this often, and ends it after this many unanswered
 * asks in a row: a thread whose event loop is blocked (a runaway loop, a catastrophic regular
 * expression) neither aggregates nor detects, and would never die by itself.
 */
const WATCHDOG = { everyMs: 5_000, missesToEnd: 3 } as const;
/** A stop waits this long for the batch in flight before it ends the thread anyway (a stuck thread never answers). */
const STOP_TIMEOUT_MS = 10_000;

/**
 * The thread's V8 heap. Left to itself it grew to 4-5 times what it held live under the demo's
 * load (217-253 MB for 48.5 MB at 243,000 events), most of the runtime's memory past 1 GB. What
 * it holds is mostly the roll-up store's row cache (CACHE_BYTES, about 32 MB, most of it on the
 * heap), its feature states and event id lists (FEATURE_CACHE_BYTES, ID_CACHE_BYTES), the batch
 * in flight and the code: the old generation's cap leaves room for that twice over (a thread that
 * outgrows it dies and is restarted, as after any crash); a batch's garbage dies young, so a young
 * generation of 16 MB (V8 lets it reach 48) costs few scavenges more.
 */
const HEAP_LIMITS = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 } as const;

/**
 * The feature states the live store keeps (FEATURE_STATE_CACHE_BYTES in AWS, where a function has
 * memory to spare): within the heap's cap beside the row cache, still the states of some 1,300
 * of the demo's users, the users a few batches of its traffic touch.
 */
const FEATURE_CACHE_BYTES = 8 * 1024 * 1024;
/** The event id lists it keeps (EVENT_ID_CACHE_BYTES in AWS): some 10,000 users' days of the demo's traffic. */
const ID_CACHE_BYTES = 8 * 1024 * 1024;

/**
 * The row cache of the store history is folded through (`applyHistory`). An import's files come
 * in time order, so a batch writes again only the few hours and the day the one before it wrote:
 * a small cache serves that, and leaves the live rows in the aggregator's cache alone. Its feature
 * states and event id lists are bounded alike: an import's users are few beside the live traffic's.
 */
const HISTORY_CACHE_BYTES = 4 * 1024 * 1024;

/** Connections to the embedded databases for one thread; a restarted thread needs new ones, since a port dies with its thread. */
export type ConnectDatabases = () => { analytics: MessagePort; safety: MessagePort; streaming: MessagePort };

/** What the thread says of itself, and what the main thread knows of its lives. */
export interface AggregatorThreadStatus {
  readonly running: boolean;
  readonly threadId?: number;
  readonly restarts: number;
  readonly startedAt?: Date;
  readonly lastExit?: { readonly at: Date; readonly reason: string };
  /** The pollers' state from inside the thread; absent when it is not running or did not answer in time. */
  readonly pollers?: { readonly aggregate: PollerStatus; readonly detect: PollerStatus };
  readonly unresponsive?: boolean;
}

interface Life {
  readonly worker: Worker;
  readonly calls: ThreadCaller;
  readonly startedAt: Date;
  watchdog?: NodeJS.Timeout;
  /** Set when the watchdog ended the thread: the reason its exit is reported with. */
  ended?: string;
}

/** Resolves to `fallback` after `ms` unless `work` settles first. */
function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The main thread's handle on the aggregator thread, which also runs the detect consumer and holds
 * the live store. It supervises the thread: when the thread dies (an uncaught exception or an
 * unhandled rejection ends a worker thread, by Node's default) the handle logs it as an error and
 * starts a new one after a backoff, which resumes both consumers from their checkpoints, so a
 * batch that was in flight is processed again and deduplicated, not lost. Calls made while no
 * thread runs fail at once rather than wait.
 */
export class AggregatorThread implements ThreadLiveStore {
  private life: Life | undefined;
  private restarts = 0;
  private crashesInRow = 0;
  private lastExit: { at: Date; reason: string } | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Map<string, Set<(message: string) => void>>();

  private constructor(
    private readonly config: LocalConfig,
    private readonly connect: ConnectDatabases | undefined,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Starts the thread; resolves once its poller runs. A thread that cannot start the first time
   * fails the start-up. The thread's counts and measurements go to `metrics`.
   */
  static async start(config: LocalConfig, connect: ConnectDatabases | undefined, logger: Logger, metrics: Metrics): Promise<AggregatorThread> {
    const thread = new AggregatorThread(config, connect, logger, metrics);
    await thread.spawn();
    return thread;
  }

  private async spawn(): Promise<void> {
    const databases = this.connect?.();
    const data: ThreadData = { config: this.config, ...databases };
    // TypeScript in a worker: the thread loads this very module through tsx (under `npm start`,
    // jest and plain node alike), then runs the worker side.
    const worker = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(__filename)}).runAggregatorThread();`, {
      eval: true,
      workerData: data,
      resourceLimits: HEAP_LIMITS,
      transferList: databases ? [databases.analytics, databases.safety, databases.streaming] : [],
    });
    worker.on('error', (error) => this.logger.error('aggregator thread failed', { error: error.message, threadId: worker.threadId }));
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    // A thread that ends before it is ready (process.exit in it) posts no message and raises no error.
    await Promise.race([workerReady(worker, 'the aggregator thread'), exited.then((code) => Promise.reject(new Error(`the aggregator thread exited with ${code} while starting`)))]);
    worker.on('message', (message: { metrics?: MetricMessage[]; published?: Publication }) => {
      for (const metric of message.metrics ?? []) this.metrics[metric.kind](metric.name, metric.value, metric.dimensions);
      if (message.published) for (const listener of this.listeners.get(message.published.channel) ?? []) listener(message.published.message);
    });
    const life: Life = { worker, calls: threadCaller(worker), startedAt: new Date() };
    this.life = life;
    void exited.then((code) => this.exited(life, code));
    this.watch(life, 0);
    if (this.stopping) await this.stop();
  }

  private watch(life: Life, misses: number): void {
    life.watchdog = setTimeout(() => void this.check(life, misses), WATCHDOG.everyMs);
    // The watchdog never keeps the process alive by itself.
    life.watchdog.unref();
  }

  private async check(life: Life, misses: number): Promise<void> {
    const answered = (await this.ask(life)) !== undefined;
    if (this.life !== life || this.stopping) return;
    if (answered || misses + 1 < WATCHDOG.missesToEnd) return this.watch(life, answered ? 0 : misses + 1);
    life.ended = `ended by the watchdog: no answer to ${WATCHDOG.missesToEnd} status requests ${WATCHDOG.everyMs / 1000} s apart (event loop blocked)`;
    this.logger.error('aggregator thread does not answer; ending it', { reason: life.ended, threadId: life.worker.threadId });
    await life.worker.terminate();
  }

  /** The thread's pollers, or undefined when it does not answer in time. */
  private ask(life: Life): Promise<AggregatorThreadStatus['pollers'] | undefined> {
    const reply = life.calls.call({ op: 'status' }).then(
      (answer) => answer['value'] as AggregatorThreadStatus['pollers'],
      () => undefined,
    );
    return within(reply, STATUS_TIMEOUT_MS, undefined);
  }

  private exited(life: Life, code: number): void {
    clearTimeout(life.watchdog);
    const reason = life.ended ?? `exited with code ${code}`;
    life.calls.fail(new Error(`the aggregator thread ${reason}`));
    if (this.life !== life) return;
    this.life = undefined;
    if (this.stopping) return;
    this.lastExit = { at: new Date(), reason };
    if (Date.now() - life.startedAt.getTime() >= STABLE_AFTER_MS) this.crashesInRow = 0;
    this.scheduleRestart(reason);
  }

  private scheduleRestart(reason: string): void {
    const delayMs = Math.min(RESTART_BACKOFF_MS.first * 2 ** this.crashesInRow, RESTART_BACKOFF_MS.max);
    this.crashesInRow += 1;
    // Loud: until the new thread runs, nothing is counted and no safety rule runs.
    this.logger.error('aggregator thread died; aggregation and safety detection are stopped until it restarts', { reason, restartInMs: delayMs, restarts: this.restarts });
    this.restartTimer = setTimeout(() => {
      this.restarts += 1;
      this.spawn().then(
        () => this.logger.warn('aggregator thread restarted; both consumers resume from their checkpoints', { restarts: this.restarts }),
        (error: unknown) => {
          if (this.stopping) return;
          this.lastExit = { at: new Date(), reason: error instanceof Error ? error.message : String(error) };
          this.scheduleRestart(this.lastExit.reason);
        },
      );
    }, delayMs);
  }

  private get calls(): ThreadCaller {
    if (!this.life) throw new Error(this.stopping ? 'the aggregator thread is stopped' : 'the aggregator thread is restarting');
    return this.life.calls;
  }

  /** For /health: whether a thread runs, its lives, and its pollers' state as it reports them. */
  async status(): Promise<AggregatorThreadStatus> {
    const known = { restarts: this.restarts, ...(this.lastExit && { lastExit: this.lastExit }) };
    const life = this.life;
    if (!life) return { running: false, ...known };
    const running = { running: true, threadId: life.worker.threadId, startedAt: life.startedAt, ...known };
    const pollers = await this.ask(life);
    return pollers ? { ...running, pollers } : { ...running, unresponsive: true };
  }

  /** Every record on the stream now, aggregated and checkpointed. */
  async drain(): Promise<void> {
    await this.calls.call({ op: 'drain' });
  }

  /** Folds the closed minutes into hour and day rollups now (after a run in flight). */
  async rollUp(): Promise<void> {
    await this.calls.call({ op: 'roll-up' });
  }

  /** Every record on the stream now, through the detect consumer's safety rules. */
  async detect(): Promise<void> {
    await this.calls.call({ op: 'detect' });
  }

  /**
   * Folds imported history (admitted and pseudonymised on the main thread) into the rollups, in
   * this thread: the fold's garbage, rows and sketches of weeks of events, grew the main thread's
   * heap, which no limit bounds, past 180 MB during the demo's import, where this thread's heap is
   * capped (HEAP_LIMITS). No thread, or one that dies during the call: the store is unavailable,
   * and the import stops as it does when the database does not answer (run again, it completes).
   */
  async applyHistory(events: readonly StoredEvent[]): Promise<{ applied: number; duplicates: number }> {
    const life = this.life;
    if (!life) throw new StoreUnavailableError('the aggregator thread', new Error(this.stopping ? 'stopped' : 'restarting'));
    try {
      return (await life.calls.call({ op: 'history', events }))['value'] as { applied: number; duplicates: number };
    } catch (error) {
      throw this.life === life ? error : new StoreUnavailableError('the aggregator thread', error);
    }
  }

  /**
   * Hears what is published on one of the live channels (LIVE_CHANNELS) of the thread's store, a
   * Redis server's pub/sub where there is one; answers a function that stops it. A restarted
   * thread subscribes again, so a listener outlives the thread it first heard. Asynchronous as
   * the live store's own `subscribe`, so the live view takes either.
   */
  async subscribe(channel: (typeof LIVE_CHANNELS)[number], listener: (message: string) => void): Promise<() => Promise<void>> {
    const listeners = this.listeners.get(channel) ?? new Set();
    listeners.add(listener);
    this.listeners.set(channel, listeners);
    return async () => void listeners.delete(listener);
  }

  /** Wakes the detect consumer: ingest put records. */
  nudgeDetect(): void {
    // No thread, nothing to wake: the new one polls from its checkpoint anyway.
    this.life?.calls.call({ op: 'nudge' }).catch(() => undefined);
  }

  removeFromSet(key: string, members: readonly string[]): Promise<number> {
    return this.live('removeFromSet', key, [...members]) as Promise<number>;
  }

  range(key: string, start: number, stop: number): Promise<string[]> {
    return this.live('range', key, start, stop) as Promise<string[]>;
  }

  removeFromList(key: string, value: string): Promise<number> {
    return this.live('removeFromList', key, value) as Promise<number>;
  }

  async pushCapped(key: string, value: string, maxLength: number): Promise<void> {
    await this.live('pushCapped', key, value, maxLength);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.live('publish', channel, message);
  }

  getHash(key: string): Promise<Record<string, string>> {
    return this.live('getHash', key) as Promise<Record<string, string>>;
  }

  private async live(method: LiveOperation, ...args: unknown[]): Promise<unknown> {
    return (await this.calls.call({ op: 'live', method, args }))['value'];
  }

  /** Stops after the batch in flight (checkpointed, so nothing is lost) and ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const life = this.life;
    if (!life) return;
    clearTimeout(life.watchdog);
    await within(
      life.calls.call({ op: 'stop' }).catch(() => undefined),
      STOP_TIMEOUT_MS,
      undefined,
    );
    await life.worker.terminate();
  }
}

/** The worker side: the aggregate consumer, wired as the runtime wired it in its own thread before. */
export async function runAggregatorThread(): Promise<void> {
  const port = parentPort!;
  const closers: (() => Promise<void>)[] = [];
  try {
    try {
      // setpriority(2) with pid 0 applies to the calling thread on Linux; elsewhere the thread
      // runs the same, only without yielding to HTTP.
      setPriority(0, NICENESS);
    } catch {
      // no precedence then
    }
    const { config, analytics: analyticsPort, safety: safetyPort, streaming: streamingPort } = workerData as ThreadData;
    const logger = jsonLogger('local', config.LOG_LEVEL);
    let analytics: SqlDatabase;
    let safety: SqlDatabase;
    let streaming: SqlDatabase;
    if (analyticsPort && safetyPort && streamingPort) {
      analytics = embeddedDatabaseClient(analyticsPort);
      safety = embeddedDatabaseClient(safetyPort);
      streaming = embeddedDatabaseClient(streamingPort);
    } else {
      const pool = (max: number) => postgresDatabase(config.DATABASE_URL!, { max, applicationName: config.DATABASE_APPLICATION_NAME, logger });
      analytics = streaming = pool(4);
      // Connections of its own: the batches, roll-ups, purges and vacuums can hold all four.
      safety = pool(2);
    }
    closers.push(() => analytics.close(), () => safety.close());
    if (streaming !== analytics) closers.push(() => streaming.close());
    const { stream, deadLetters } = await openStream(config, streaming, closers);
    const keys = await openRecordKeys(config, streaming);
    // Held until the ready message is out: the runtime takes the thread's first message for it,
    // and the pollers may count erased records or aggregated events before then.
    let started = false;
    // A batch reports a few counts and an observation per session it ends: sent together, one
    // message a turn rather than one each, and none before the ready message.
    let unsent: MetricMessage[] = [];
    const sendMetrics = () => {
      if (!started || unsent.length === 0) return;
      port.postMessage({ metrics: unsent });
      unsent = [];
    };
    const report = (metric: MetricMessage) => {
      if (unsent.push(metric) === 1 && started) setImmediate(sendMetrics);
    };
    const metrics: Metrics = {
      count: (name, value, dimensions) => report({ kind: 'count', name, value, dimensions }),
      observe: (name, value, dimensions) => report({ kind: 'observe', name, value, dimensions }),
    };
    const live = openLiveStore(config, logger);
    closers.push(() => live.close());
    // One store for both, so the roll-up's writes and the batches' share one row cache; the
    // roll-up decides each day it packs for the k answers use. Minute rows the purge would delete
    // are not written.
    const retention = retentionPolicy(config);
    const minutesKeptFrom = () => minuteRollupCutoff(retention, systemClock.now());
    const rollups = new SqlRollupStore(analytics, { k: config.K_ANONYMITY, minutesKeptFrom, featureCacheBytes: FEATURE_CACHE_BYTES, eventIdCacheBytes: ID_CACHE_BYTES });
    const history = new SqlRollupStore(analytics, { cacheBytes: HISTORY_CACHE_BYTES, featureCacheBytes: HISTORY_CACHE_BYTES, eventIdCacheBytes: HISTORY_CACHE_BYTES, minutesKeptFrom });
    const detect = await startDetectConsumer({ config, safety, streaming, stream, keys, metrics, feed: live, closers, logger });
    const poller = new StreamPoller({
      consumer: STREAM_CONSUMERS.aggregate,
      reader: stream,
      checkpoints: new SqlCheckpointStore(streaming),
      deadLetters,
      handler: makeAggregateHandler({ aggregate: makeAggregate({ rollups, live, metrics, clock: systemClock, logger }), logger, keys, metrics }),
      ...AGGREGATE_MAPPING,
      pollIntervalMs: 100,
      giveWay: () => detect.caughtUp(GIVE_WAY_AT_MOST_MS),
      clock: systemClock,
      sleep,
      logger,
    });
    poller.start();
    // The runtime vacuums what it deletes and rewrites in either database: PGlite has no
    // autovacuum, and a PostgreSQL's may be off (this machine's server has it off: after the demo,
    // every purged row and superseded sketch still held its space) or come late.
    const rollUp = makeRollUp({ rollups, clock: systemClock, logger });
    const vacuums = new RepeatingJob('vacuum', VACUUM_EVERY_MS, makeVacuum(analytics, REWRITTEN_TABLES), logger).start();
    const rollUps = new RepeatingJob('roll-up', ROLL_UP_EVERY_MS, (running) => rollUp(running), logger).start();
    const purge = makePurge({
      rollups,
      audit: new SqlAuditLog(analytics),
      reports: { index: new SqlReportIndex(analytics), objects: await openObjectStore(config) },
      operationalMinutes: new SqlOperationalMinutes(analytics),
      alerts: new SqlAlertStore(analytics),
      conditions: new SqlConditionStore(analytics),
      interventions: new SqlInterventionStore(analytics),
      recipients: new SqlRecipientStore(analytics),
      policy: retention,
      compact: makeVacuum(analytics),
      clock: systemClock,
      logger,
    });
    // A runtime that is never up for an hour (a laptop's) still purges, once the first roll-ups have folded what it may drop.
    const purges = new RepeatingJob('purge', PURGE_EVERY_MS, purge, logger).start(PURGE_FIRST_AFTER_MS);
    port.on('message', (request: Request) => {
      const { id, op } = request;
      const done: Promise<unknown> =
        request.op === 'live'
          ? LIVE_OPERATIONS.includes(request.method)
            ? (live[request.method] as (...args: unknown[]) => Promise<unknown>).apply(live, request.args)
            : Promise.reject(new TypeError(`not a live store operation: ${String(request.method)}`))
          : request.op === 'history'
            ? // The counts only: the fresh events would cross back to the main thread for nothing.
              history.applyEvents(request.events).then(({ applied, duplicates }) => ({ applied, duplicates }))
            : op === 'drain'
              ? poller.drain()
              : op === 'detect'
                ? detect.drain()
                : op === 'nudge'
                  ? Promise.resolve(detect.nudge())
                  : op === 'roll-up'
                    ? rollUps.runNow()
                    : op === 'status'
                      ? Promise.resolve({ aggregate: poller.status(), detect: detect.status() })
                      : stopAll([rollUps, vacuums, purges, poller], closers);
      done.then(
        (value) => port.postMessage({ id, value } satisfies ThreadReply),
        (error: unknown) => port.postMessage({ id, error: replyError(error) } satisfies ThreadReply),
      );
    });
    for (const channel of LIVE_CHANNELS) {
      // Dropped until the ready message is out, for the reason given at `started`; the live view starts from the stored counters.
      const unsubscribe = await live.subscribe(channel, (message) => started && port.postMessage({ published: { channel, message } satisfies Publication }));
      closers.push(unsubscribe);
    }
    port.postMessage({ ready: true });
    started = true;
    sendMetrics();
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    port.postMessage({ ready: false, error: replyError(error) });
  }
}

async function stopAll(running: readonly { stop(): Promise<void> }[], closers: (() => Promise<void>)[]): Promise<void> {
  for (const part of running) await part.stop();
  for (const close of closers.reverse()) await close().catch(() => undefined);
}
