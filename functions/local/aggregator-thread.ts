import { setPriority } from 'node:os';
import { Worker, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { LocalConfig } from '../config/local';
import { jsonLogger, type Logger } from '../adapters/log';
import { postgresDatabase, type SqlDatabase } from '../adapters/pg/database';
import { embeddedDatabaseClient } from '../adapters/pg/pglite-database';
import { SqlCheckpointStore } from '../adapters/pg/sql-checkpoint-store';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { makeAggregate } from '../use-cases/aggregate';
import { makeAggregateHandler } from '../handlers/aggregate';
import { makeRollUp, ROLL_UP_EVERY_MS } from '../use-cases/roll-up';
import { makePurge } from '../use-cases/purge';
import { SqlAuditLog } from '../adapters/pg/sql-audit-log';
import { SqlReportIndex } from '../adapters/pg/sql-report-index';
import { retentionPolicy } from '../config/env';
import { replyError, threadCaller, workerReady, type ThreadCaller, type ThreadReply } from '../adapters/thread-calls';
import { RepeatingJob } from './repeating-job';
import { StreamPoller } from './stream-poller';
import { openLiveStore, openObjectStore, openRecordKeys, openStream, sleep, systemClock } from './adapters';
import { startDetectConsumer } from './monitoring';
import type { LiveStore, Metrics } from '../ports';

/** The stack's event source mapping settings for the aggregate function, but for the batching window (1 s there). */
const AGGREGATE_MAPPING = { batchSize: 500, maxBatchingWindowMs: 200, retryAttempts: 5, bisectBatchOnError: true, maxRecordAgeMs: 3_600_000 } as const;

/** Daily in the stack; hourly here, where a runtime seldom lives a day. */
const PURGE_EVERY_MS = 3_600_000;

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
  readonly streaming?: MessagePort;
}

/** The live store operations the main thread makes on the thread's store (in-process in the embedded mode): erasure, and the monitor's dashboard feed. */
const LIVE_OPERATIONS = ['removeFromSet', 'range', 'removeFromList', 'pushCapped', 'publish'] as const;
type LiveOperation = (typeof LIVE_OPERATIONS)[number];
export type ThreadLiveStore = Pick<LiveStore, LiveOperation>;

/** A count the thread reports to the runtime's metrics (replies to calls carry an id instead). */
interface CountMessage {
  readonly name: string;
  readonly value: number;
  readonly dimensions?: Readonly<Record<string, string>>;
}

type Request = { id: number; op: 'drain' | 'detect' | 'nudge' | 'roll-up' | 'stop' } | { id: number; op: 'live'; method: LiveOperation; args: unknown[] };

/** The main thread's handle on the aggregator thread, which also runs the detect consumer and holds the live store. */
export class AggregatorThread implements ThreadLiveStore {
  private constructor(
    private readonly worker: Worker,
    private readonly calls: ThreadCaller,
  ) {}

  /** Starts the thread; resolves once its poller runs. The ports are transferred to it. The thread's counts go to `metrics`. */
  static async start(config: LocalConfig, databases: { analytics: MessagePort; streaming: MessagePort } | undefined, logger: Logger, metrics: Pick<Metrics, 'count'>): Promise<AggregatorThread> {
    const data: ThreadData = { config, ...databases };
    // TypeScript in a worker: the thread loads this very module through tsx (under `npm start`,
    // jest and plain node alike), then runs the worker side.
    const worker = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(__filename)}).runAggregatorThread();`, {
      eval: true,
      workerData: data,
      transferList: databases ? [databases.analytics, databases.streaming] : [],
    });
    await workerReady(worker, 'the aggregator thread');
    const calls = threadCaller(worker);
    worker.on('message', (message: { count?: CountMessage }) => {
      if (message.count) metrics.count(message.count.name, message.count.value, message.count.dimensions);
    });
    worker.on('error', (error) => logger.error('aggregator thread failed', { error: error.message }));
    worker.on('exit', (code) => calls.fail(new Error(`the aggregator thread exited with ${code}`)));
    return new AggregatorThread(worker, calls);
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

  /** Wakes the detect consumer: ingest put records. */
  nudgeDetect(): void {
    this.calls.call({ op: 'nudge' }).catch(() => undefined);
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

  private async live(method: LiveOperation, ...args: unknown[]): Promise<unknown> {
    return (await this.calls.call({ op: 'live', method, args }))['value'];
  }

  /** Stops after the batch in flight (checkpointed, so nothing is lost) and ends the thread. */
  async stop(): Promise<void> {
    await this.calls.call({ op: 'stop' }).catch(() => undefined);
    await this.worker.terminate();
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
    const { config, analytics: analyticsPort, streaming: streamingPort } = workerData as ThreadData;
    const logger = jsonLogger('local', config.LOG_LEVEL);
    let analytics: SqlDatabase;
    let streaming: SqlDatabase;
    if (analyticsPort && streamingPort) {
      analytics = embeddedDatabaseClient(analyticsPort);
      streaming = embeddedDatabaseClient(streamingPort);
    } else {
      analytics = streaming = postgresDatabase(config.DATABASE_URL!, { max: 4 });
    }
    closers.push(() => analytics.close());
    if (streaming !== analytics) closers.push(() => streaming.close());
    const { stream, deadLetters } = await openStream(config, streaming, closers);
    const keys = await openRecordKeys(config, streaming);
    // Held until the ready message is out: the runtime takes the thread's first message for it,
    // and the pollers may count erased records before then.
    let started = false;
    const early: CountMessage[] = [];
    const metrics: Pick<Metrics, 'count'> = {
      count: (name, value, dimensions) => (started ? port.postMessage({ count: { name, value, dimensions } }) : early.push({ name, value, dimensions })),
    };
    const live = openLiveStore(config);
    closers.push(() => live.close());
    // One store for both, so the roll-up's writes and the batches' share one row cache.
    const rollups = new SqlRollupStore(analytics);
    const poller = new StreamPoller({
      consumer: 'aggregate',
      reader: stream,
      checkpoints: new SqlCheckpointStore(streaming),
      deadLetters,
      handler: makeAggregateHandler({ aggregate: makeAggregate({ rollups, live, clock: systemClock, logger }), logger, keys, metrics }),
      ...AGGREGATE_MAPPING,
      pollIntervalMs: 100,
      clock: systemClock,
      sleep,
      logger,
    });
    poller.start();
    const detect = await startDetectConsumer({ config, analytics, streaming, stream, keys, metrics, feed: live, closers, logger });
    const rollUp = makeRollUp({ rollups, clock: systemClock, logger });
    const rollUps = new RepeatingJob('roll-up', ROLL_UP_EVERY_MS, (running) => rollUp(running), logger).start();
    const purges = new RepeatingJob('purge', PURGE_EVERY_MS, makePurge({ rollups, audit: new SqlAuditLog(analytics), reports: { index: new SqlReportIndex(analytics), objects: await openObjectStore(config) }, policy: retentionPolicy(config), clock: systemClock, logger }), logger).start();
    port.on('message', (request: Request) => {
      const { id, op } = request;
      const done: Promise<unknown> =
        request.op === 'live'
          ? LIVE_OPERATIONS.includes(request.method)
            ? (live[request.method] as (...args: unknown[]) => Promise<unknown>).apply(live, request.args)
            : Promise.reject(new TypeError(`not a live store operation: ${String(request.method)}`))
          : op === 'drain'
            ? poller.drain()
            : op === 'detect'
              ? detect.drain()
              : op === 'nudge'
                ? Promise.resolve(detect.nudge())
                : op === 'roll-up'
                  ? rollUps.runNow()
                  : stopAll([rollUps, purges, poller], closers);
      done.then(
        (value) => port.postMessage({ id, value } satisfies ThreadReply),
        (error: unknown) => port.postMessage({ id, error: replyError(error) } satisfies ThreadReply),
      );
    });
    port.postMessage({ ready: true });
    started = true;
    for (const count of early.splice(0)) port.postMessage({ count });
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    port.postMessage({ ready: false, error: replyError(error) });
  }
}

async function stopAll(running: readonly { stop(): Promise<void> }[], closers: (() => Promise<void>)[]): Promise<void> {
  for (const part of running) await part.stop();
  for (const close of closers.reverse()) await close().catch(() => undefined);
}
