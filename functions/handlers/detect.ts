import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import { makeDetect, type Detect } from '../use-cases/detect';
import { decodeBatch, type BatchDecoder } from './kinesis-batch';
import { lazyHandler } from './lazy';
import { emfMetrics } from '../adapters/aws/emf-metrics';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { detectEnv, METRICS_NAMESPACE, recordKeyStore } from '../config/lambda';
import { parseEnv } from '../config/env';
import { eventBridgeClient } from '../adapters/aws/clients';
import { EventBridgeInterventions } from '../adapters/aws/eventbridge-interventions';
import { SqlInterventionStore } from '../adapters/pg/sql-intervention-store';
import { makeFollowUps, makeRecommend } from '../use-cases/interventions';
import { notifyingFunction } from './monitoring-parts';

/** Safety signals of events that arrived later than the live horizon: history, watched by no rule. A count, no subject. */
export const HISTORY_SIGNALS_METRIC = 'safety_signals_history_total';

/**
 * Kinesis batch in (through the enhanced fan-out consumer), partial batch response out: the
 * poison records are reported as failed, erased users' records skipped, the rest go through the
 * safety rules (history counted and skipped). A store failure
 * throws, so the batch is retried and split; rules and alerts count each event once, so a retry
 * never pages twice.
 */
export function makeDetectHandler(deps: { readonly detect: Detect; readonly logger: Logger; readonly keys: BatchDecoder['keys']; readonly metrics: BatchDecoder['metrics'] }) {
  return async function handleKinesisBatch(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
    const { events, batchItemFailures } = await decodeBatch(event, { consumer: 'detect', keepChannelTokens: true, ...deps });
    const result = await deps.detect(events);
    if (result.history > 0) deps.metrics.count(HISTORY_SIGNALS_METRIC, result.history);
    if (result.transitions > 0) deps.logger.info('detected', { records: event.Records.length, ...result, failed: batchItemFailures.length });
    return { batchItemFailures };
  };
}

const logger = lambdaLogger('detect');

export const handler = logger.around(
  lazyHandler(async () => {
    const metrics = emfMetrics(METRICS_NAMESPACE, 'detect');
    const { INTERVENTION_BUS_NAME } = parseEnv(detectEnv);
    const { rules, alerts, db, clock, sleep } = await notifyingFunction(logger, metrics);
    const interventions = new SqlInterventionStore(db);
    const recommend = makeRecommend({ store: interventions, sender: new EventBridgeInterventions(eventBridgeClient(), INTERVENTION_BUS_NAME), clock, sleep, logger, metrics });
    return makeDetectHandler({ detect: makeDetect({ rules, alerts, recommend, followUp: makeFollowUps(interventions) }), logger, keys: recordKeyStore(), metrics });
  }),
);
