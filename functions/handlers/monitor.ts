import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { cloudWatchClient } from '../adapters/aws/clients';
import { CloudWatchOperationalSeries } from '../adapters/aws/cloudwatch-operational-series';
import { jsonLogger, logLevelFromEnv } from '../adapters/log';
import { RedisLiveStore } from '../adapters/redis/redis-live-store';
import { parseEnv } from '../config/env';
import { METRICS_NAMESPACE, connectDatabase, deliveryChannels, notifyingEnv } from '../config/lambda';
import { makeDeliver } from '../use-cases/deliver';
import { makeMonitor } from '../use-cases/monitor';
import { lazyHandler } from './lazy';
import { alertManager, ruleEngine, seriesWatch } from './monitoring-parts';

/**
 * The scheduled monitor (EventBridge, every minute): the closed minutes of the metric series
 * through the anomaly detectors, the rules on them and on time passing, then the repeats and
 * escalations that have come due. The schedule's event carries nothing the run needs.
 */
export const handler = lazyHandler(async () => {
  const config = parseEnv(notifyingEnv);
  const logger = jsonLogger('monitor', logLevelFromEnv());
  const clock = { now: () => new Date() };
  const db = await connectDatabase();
  const live = new RedisLiveStore(new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 2_000 }));
  const deliver = makeDeliver({ channels: deliveryChannels(live), sleep: (ms) => new Promise((done) => setTimeout(done, ms)), clock, logger });
  const monitor = makeMonitor({
    series: seriesWatch(db, new CloudWatchOperationalSeries(cloudWatchClient(), METRICS_NAMESPACE), clock, logger),
    rules: ruleEngine(db, clock),
    alerts: alertManager(db, { deliver, dashboardUrl: config.DASHBOARD_URL, clock, newId: randomUUID, logger }),
  });
  return async function handleSchedule() {
    const result = await monitor();
    logger.info('monitored', { ...result });
    return result;
  };
});
