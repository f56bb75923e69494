import { jsonLogger } from '../../../functions/adapters/log';
import { makeRollUpHandler, STEP_RESERVE_MS } from '../../../functions/handlers/roll-up';
import type { RollUpStep, RollupStore } from '../../../functions/ports/rollups';
import { makeRollUp, ROLL_UP_LAG_MS } from '../../../functions/use-cases/roll-up';

const NOW = Date.parse('2026-11-25T12:00:40Z');
const clock = { now: () => new Date(NOW) };

/** A store whose roll-up needs `steps` steps to catch up, recording what it was asked. */
function steppingStore(steps: number): { store: Pick<RollupStore, 'rollUp'>; untils: number[] } {
  const untils: number[] = [];
  return {
    untils,
    store: {
      async rollUp(until: number): Promise<RollUpStep> {
        untils.push(until);
        return { rolledUpTo: until - (steps - untils.length) * 3_600_000, minuteRows: 10, done: untils.length >= steps };
      },
    },
  };
}

const rollUpWith = (store: Pick<RollupStore, 'rollUp'>) =>
  makeRollUp({ rollups: store as RollupStore, clock, logger: jsonLogger('test', 'silent') });

describe('the roll-up use case', () => {
  it('folds minutes up to the lag before now, step by step until it has caught up', async () => {
    const { store, untils } = steppingStore(3);
    expect(await rollUpWith(store)()).toEqual({ rolledUpTo: NOW - ROLL_UP_LAG_MS, minuteRows: 30, steps: 3, caughtUp: true });
    expect(untils).toEqual([NOW - ROLL_UP_LAG_MS, NOW - ROLL_UP_LAG_MS, NOW - ROLL_UP_LAG_MS]);
  });

  it('stops between steps when told to, and says it has not caught up', async () => {
    const { store, untils } = steppingStore(5);
    let allowed = 2;
    expect(await rollUpWith(store)(() => --allowed > 0)).toMatchObject({ steps: 2, caughtUp: false });
    expect(untils).toHaveLength(2);
  });
});

describe('the scheduled roll-up handler', () => {
  it('takes no further step once the time left falls to the reserve', async () => {
    const { store, untils } = steppingStore(10);
    const remaining = [STEP_RESERVE_MS + 20_000, STEP_RESERVE_MS + 1, STEP_RESERVE_MS, STEP_RESERVE_MS - 1];
    const context = { getRemainingTimeInMillis: () => remaining.shift()! };
    const result = await makeRollUpHandler(rollUpWith(store))({ time: new Date(NOW).toISOString() }, context);
    expect(result).toMatchObject({ steps: 3, caughtUp: false });
    expect(untils).toHaveLength(3);
  });
});
