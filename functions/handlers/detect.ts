import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import { makeDetect, type Detect } from '../use-cases/detect';
import { decodeBatch } from './kinesis-batch';
import { lazyHandler } from './lazy';
import { notifyingFunction } from './monitoring-parts';

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
  const { logger, rules, alerts } = await notifyingFunction('detect');
  return makeDetectHandler({ detect: makeDetect({ rules, alerts }), logger });
});
