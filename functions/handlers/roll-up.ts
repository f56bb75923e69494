import type { Context, ScheduledEvent } from 'aws-lambda';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { parseEnv } from '../config/env';
import { connectDatabase, rollUpEnv } from '../config/lambda';
import { makeRollUp, type RollUp, type RollUpResult } from '../use-cases/roll-up';
import { lazyHandler } from './lazy';

/** Time kept back from the function's timeout: a step in flight when it is reached still commits. */
export const STEP_RESERVE_MS = 30_000;

/**
 * The scheduled roll-up (EventBridge, every minute). A run that cannot catch up in one invocation
 * (after a pause) stops in time and the next one goes on from the watermark.
 */
export function makeRollUpHandler(rollUp: RollUp) {
  return async function handleSchedule(_event: Pick<ScheduledEvent, 'time'>, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<RollUpResult> {
    return rollUp(() => context.getRemainingTimeInMillis() > STEP_RESERVE_MS);
  };
}

const logger = lambdaLogger('roll-up');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(rollUpEnv);
    return makeRollUpHandler(makeRollUp({ rollups: new SqlRollupStore(await connectDatabase({ logger }), { k: config.K_ANONYMITY }), clock: { now: () => new Date() }, logger }));
  }),
);
