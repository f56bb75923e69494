import type { ScheduledEvent } from 'aws-lambda';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { s3Client } from '../adapters/aws/clients';
import { S3ObjectStore } from '../adapters/aws/s3-object-store';
import { parseEnv } from '../config/env';
import { connectDatabase, modelEnv } from '../config/lambda';
import { makeRunModels } from '../use-cases/run-models';
import { behaviourModelSteps } from '../config/behaviour-models';
import { lazyHandler } from './lazy';

/**
 * The nightly model run (EventBridge): fits the behaviour models over the feature rows and keeps
 * each artefact in the model bucket. A step that failed fails the invocation, so the rule retries
 * it and the function's error alarm sees it.
 */
const logger = lambdaLogger('model');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(modelEnv);
    const db = await connectDatabase({ logger });
    const clock = { now: () => new Date() };
    const runModels = makeRunModels({ steps: behaviourModelSteps({ db, clock, k: config.K_ANONYMITY }), artefacts: new S3ObjectStore(s3Client(), config.MODEL_BUCKET), clock, logger });
    return async (_event: Pick<ScheduledEvent, 'time'>) => {
      const report = await runModels();
      const failed = report.steps.filter((step) => step.status === 'failed').map((step) => step.name);
      if (failed.length > 0) throw new Error(`model steps failed: ${failed.join(', ')}`);
      return report;
    };
  }),
);
