import type { LocalConfig } from '../config/local';
import type { Logger } from '../adapters/log';
import type { SqlDatabase } from '../adapters/pg/database';
import { redisProbe } from '../adapters/redis/redis-client';
import { AGGREGATE_LAG_LIMIT_MS, DETECT_LAG_LIMIT_MS, judgeLag, overallHealth, type ConsumerLag, type HealthReport, type PartReport } from '../domain/operations/health';
import type { EventStreamReader } from '../ports';
import type { AggregatorThreadStatus } from './aggregator-thread';
import type { PollerStatus } from './stream-poller';

/** A probe that takes longer than this counts as a failed one: a hung connection is as down as a refused one. */
const PROBE_TIMEOUT_MS = 2_000;

/** A poller that has not finished a poll for this long is stuck (a poll is a batch, under a second when healthy). */
const STUCK_AFTER_MS = 30_000;

/** Redis holds the live counters and the dashboard's alert feed, both best-effort: PostgreSQL is the record, and pages go by SNS, e-mail or the outbox. */
const BEST_EFFORT = new Set(['redis']);

export interface HealthDeps {
  readonly config: LocalConfig;
  readonly analytics: SqlDatabase;
  readonly streaming: SqlDatabase;
  readonly stream: EventStreamReader;
  readonly thread: { status(): Promise<AggregatorThreadStatus> };
  readonly lag: (consumer: string) => Promise<ConsumerLag>;
  readonly logger: Logger;
  readonly closers: (() => Promise<void>)[];
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function probe(what: string, check: () => Promise<unknown>): Promise<PartReport> {
  try {
    await withTimeout(check(), what);
    return { status: 'ok' };
  } catch (error) {
    return { status: 'down', reason: messageOf(error) };
  }
}

/** A consumer in the aggregator's thread: down when the thread is, when its polls fail, or when it stopped polling. */
function consumerPart(thread: AggregatorThreadStatus, poller: PollerStatus | undefined, now: Date): PartReport {
  if (!thread.running) return { status: 'down', reason: `the aggregator thread is not running (${thread.lastExit?.reason ?? 'starting'})` };
  if (thread.unresponsive || !poller) return { status: 'down', reason: 'the aggregator thread does not answer: its event loop is blocked' };
  const details = { lastPollAt: poller.lastPollAt, consecutiveFailures: poller.consecutiveFailures };
  if (!poller.running) return { status: 'down', reason: 'the poller is stopped', ...details };
  if (poller.consecutiveFailures > 0) return { status: 'down', reason: `polls fail: ${poller.lastError ?? 'unknown'}`, ...details };
  if (poller.lastPollAt && now.getTime() - poller.lastPollAt.getTime() > STUCK_AFTER_MS) return { status: 'down', reason: 'no poll has finished for over 30 s', ...details };
  return { status: 'ok', ...details };
}

async function lagPart(lag: (consumer: string) => Promise<ConsumerLag>, consumer: string, limitMs: number): Promise<PartReport> {
  try {
    return judgeLag(await withTimeout(lag(consumer), `the ${consumer} consumer's lag`), limitMs);
  } catch (error) {
    // A lag that cannot be read cannot be vouched for.
    return { status: 'down', reason: `lag unknown: ${messageOf(error)}` };
  }
}

/**
 * The local runtime's `/health`: every part measured from the main thread, so a dead or stuck
 * aggregator thread cannot report itself healthy. Concurrent requests share one check.
 */
export function makeHealthCheck(deps: HealthDeps): () => Promise<HealthReport> {
  const { config, analytics, streaming } = deps;
  const redis = config.REDIS_URL ? redisProbe(config.REDIS_URL, deps.logger) : undefined;
  if (redis) deps.closers.push(() => redis.close());
  let running: Promise<HealthReport> | undefined;

  async function check(): Promise<HealthReport> {
    const [database, redisPart, emulator, thread, aggregateLag, detectLag] = await Promise.all([
      probe('the database', () => Promise.all([analytics, ...(streaming === analytics ? [] : [streaming])].map((db) => db.query('SELECT 1')))),
      redis ? probe('Redis', () => redis.ping()) : undefined,
      // The stream, its shards listed: the emulator answers, and it still has the stream.
      config.AWS_ENDPOINT_URL ? probe('the emulator', () => deps.stream.listShards()) : undefined,
      deps.thread.status(),
      lagPart(deps.lag, 'aggregate', AGGREGATE_LAG_LIMIT_MS),
      lagPart(deps.lag, 'detect', DETECT_LAG_LIMIT_MS),
    ]);
    const now = new Date();
    const { pollers, ...lives } = thread;
    const aggregator = consumerPart(thread, pollers?.aggregate, now);
    return overallHealth(
      {
        database,
        ...(redisPart && { redis: redisPart }),
        ...(emulator && { emulator }),
        aggregator: { ...aggregator, thread: lives },
        detector: consumerPart(thread, pollers?.detect, now),
        aggregateLag,
        detectLag,
      },
      BEST_EFFORT,
    );
  }

  return () => {
    running ??= check().finally(() => (running = undefined));
    return running;
  };
}
