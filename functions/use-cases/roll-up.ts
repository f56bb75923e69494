import type { Logger } from '../adapters/log';
import type { Clock } from '../ports';
import type { RollupStore } from '../ports/rollups';

export interface RollUpDeps {
  readonly rollups: RollupStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Minutes this recent are left open. Events reach the aggregator seconds after they happen
 * (batching window, retries, clients' clocks), and an event of a minute already rolled up costs
 * the aggregator the hour and day rows the roll-up is there to save it.
 */
export const ROLL_UP_LAG_MS = 15_000;

/**
 * How often the roll-up runs (the stack's schedule and the local runtime's job): EventBridge's
 * finest rate. Reads are exact whatever the lag; a shorter one only keeps the minutes a query
 * sums fewer.
 */
export const ROLL_UP_EVERY_MS = 60_000;

export interface RollUpResult {
  /** Epoch ms: hour and day rows hold every event of the minutes before it. */
  readonly rolledUpTo: number;
  readonly minuteRows: number;
  readonly steps: number;
  /** False when it stopped on `continueWhile` with minutes left for the next run. */
  readonly caughtUp: boolean;
}

/**
 * Folds the closed minutes into hour and day rows, step by step (each a short transaction) until
 * it has caught up, or until `continueWhile` says to stop (a Lambda's remaining time).
 */
export function makeRollUp(deps: RollUpDeps) {
  return async function rollUp(continueWhile: () => boolean = () => true): Promise<RollUpResult> {
    const until = deps.clock.now().getTime() - ROLL_UP_LAG_MS;
    let minuteRows = 0;
    let steps = 0;
    for (;;) {
      const step = await deps.rollups.rollUp(until);
      minuteRows += step.minuteRows;
      steps++;
      if (step.done || !continueWhile()) {
        const result = { rolledUpTo: step.rolledUpTo, minuteRows, steps, caughtUp: step.done };
        deps.logger.info('rolled up', { ...result, rolledUpTo: new Date(step.rolledUpTo).toISOString() });
        return result;
      }
    }
  };
}

export type RollUp = ReturnType<typeof makeRollUp>;
