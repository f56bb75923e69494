import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { redisClient } from '../adapters/redis/redis-client';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { parseEnv } from '../config/env';
import { METRICS_NAMESPACE, aggregateEnv, connectDatabase, recordKeyStore } from '../config/lambda';
import { emfMetrics } from '../adapters/aws/emf-metrics';
import { makeAggregate, type Aggregate } from '../use-cases/aggregate';
import { minuteRollupCutoff } from '../domain/privacy/retention';
import { lazyHandler } from './lazy';
import { decodeBatch, type BatchDecoder } from './kinesis-batch';

export interface AggregateHandlerDeps {
  readonly aggregate: Aggregate;
  readonly logger: Logger;
  /** The users' record keys: a record whose key is gone is an erased user's, skipped. */
  readonly keys: BatchDecoder['keys'];
  readonly metrics: BatchDecoder['metrics'];
}

/**
 * Kinesis batch in, partial batch response out. Undecodable records are reported as failed (and
 * reach the DLQ after the mapping's retries) while the rest of the batch is applied; erased
 * users' records (their key deleted) are skipped and acknowledged; a store
 * failure throws, so the whole batch is retried and, with bisect on, split.
 */
export function makeAggregateHandler(deps: AggregateHandlerDeps) {
  return async function handleKinesisBatch(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
    const { events, batchItemFailures, erased } = await decodeBatch(event, { consumer: 'aggregate', ...deps });
    const result = await deps.aggregate(events);
    deps.logger.info('aggregated', { records: event.Records.length, applied: result.applied, duplicates: result.duplicates, failed: batchItemFailures.length, erased });
    return { batchItemFailures };
  };
}

const logger = lambdaLogger('aggregate');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(aggregateEnv);
    const clock = { now: () => new Date() };
    const metrics = emfMetrics(METRICS_NAMESPACE, 'aggregate');
    return makeAggregateHandler({
      aggregate: makeAggregate({
        rollups: new SqlRollupStore(await connectDatabase({ logger }), { minutesKeptFrom: () => minuteRollupCutoff({ minuteRollupDays: config.RETENTION_MINUTE_ROLLUP_DAYS }, clock.now()) }),
        live: new RedisLiveStore(redisClient(config.REDIS_URL, { logger })),
        metrics,
        clock,
        logger,
      }),
      logger,
      keys: recordKeyStore(),
      metrics,
    });
  }),
);
