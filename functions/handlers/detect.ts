import { randomUUID } from 'node:crypto';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { Redis } from 'ioredis';
import { jsonLogger, logLevelFromEnv, type Logger } from '../adapters/log';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { parseEnv } from '../config/env';
import { connectDatabase, deliveryChannels, notifyingEnv } from '../config/lambda';
import { makeDeliver } from '../use-cases/deliver';
import { makeDetect, type Detect } from '../use-cases/detect';
import { decodeBatch } from './kinesis-batch';
import { lazyHandler } from './lazy';
import { alertManager, ruleEngine } from './monitoring-parts';

/**
 * Kinesis batch in (through the enhanced fan-out consumer), partial batch response out: the
 * poison records are reported as failed, the rest go through the safety rules. A store failure
 * throws, so the batch is retried and split; rules and alerts count each event once, so a retry
 * never pages twice.
 */
export function makeDetectHandler(deps: { readonly detect: Detect; readonly logger: Logger }) {
  return async function handleKinesisBatch(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
    const { events, batchItemFailures } = decodeBatch(event, deps.logger);
    const result = await deps.detect(events);
    if (result.transitions > 0) deps.logger.info('detected', { records: event.Records.length, ...result, failed: batchItemFailures.length });
    return { batchItemFailures };
  };
}

export const handler = lazyHandler(async () => {
  const config = parseEnv(notifyingEnv);
  const logger = jsonLogger('detect', logLevelFromEnv());
  const clock = { now: () => new Date() };
  const db = await connectDatabase();
  const live = new RedisLiveStore(new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 2_000 }));
  const deliver = makeDeliver({ channels: deliveryChannels(live), sleep: (ms) => new Promise((done) => setTimeout(done, ms)), clock, logger });
  return makeDetectHandler({
    detect: makeDetect({ rules: ruleEngine(db, clock), alerts: alertManager(db, { deliver, dashboardUrl: config.DASHBOARD_URL, clock, newId: randomUUID, logger }) }),
    logger,
  });
});
