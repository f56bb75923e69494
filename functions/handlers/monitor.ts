import { cloudWatchClient } from '../adapters/aws/clients';
import { CloudWatchOperationalSeries } from '../adapters/aws/cloudwatch-operational-series';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { METRICS_NAMESPACE } from '../config/lambda';
import { makeMonitor } from '../use-cases/monitor';
import { lazyHandler } from './lazy';
import { notifyingFunction, seriesWatch } from './monitoring-parts';

/**
 * The scheduled monitor (EventBridge, every minute): the closed minutes of the metric series
 * through the anomaly detectors, the rules on them and on time passing, then the repeats and
 * escalations that have come due. The schedule's event carries nothing the run needs.
 */
const logger = lambdaLogger('monitor');

export const handler = logger.around(
  lazyHandler(async () => {
    const { clock, db, rules, alerts } = await notifyingFunction(logger);
    const monitor = makeMonitor({ series: seriesWatch(db, new CloudWatchOperationalSeries(cloudWatchClient(), METRICS_NAMESPACE), clock, logger), rules, alerts });
    return async function handleSchedule() {
      const result = await monitor();
      logger.info('monitored', { ...result });
      return result;
    };
  }),
);
