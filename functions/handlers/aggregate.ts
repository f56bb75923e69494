import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { redisClient } from '../adapters/redis/redis-client';
import { jsonLogger, logLevelFromEnv, type Logger } from '../adapters/log';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { parseEnv } from '../config/env';
import { aggregateEnv, connectDatabase } from '../config/lambda';
import { makeAggregate, type Aggregate } from '../use-cases/aggregate';
import { lazyHandler } from './lazy';
import { decodeBatch } from './kinesis-batch';

export interface AggregateHandlerDeps {
  readonly aggregate: Aggregate;
  readonly logger: Logger;
}

/**
 * Kinesis batch in, partial batch response out. Undecodable records are reported as failed (and
 * reach the DLQ after the mapping's retries) while the rest of the batch is applied; a store
 * failure throws, so the whole batch is retried and, with bisect on, split.
 */
export function makeAggregateHandler(deps: AggregateHandlerDeps) {
  return async function handleKinesisBatch(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
    const { events, batchItemFailures } = decodeBatch(event, deps.logger);
    const result = await deps.aggregate(events);
    deps.logger.info('aggregated', { records: event.Records.length, applied: result.applied, duplicates: result.duplicates, failed: batchItemFailures.length });
    return { batchItemFailures };
  };
}

export const handler = lazyHandler(async () => {
  const config = parseEnv(aggregateEnv);
  const logger = jsonLogger('aggregate', logLevelFromEnv());
  const clock = { now: () => new Date() };
  return makeAggregateHandler({
    aggregate: makeAggregate({
      rollups: new SqlRollupStore(await connectDatabase()),
      live: new RedisLiveStore(redisClient(config.REDIS_URL, { logger })),
      clock,
      logger,
    }),
    logger,
  });
});
