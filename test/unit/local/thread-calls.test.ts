import { MessageChannel } from 'node:worker_threads';
import { replyError, threadCaller } from '../../../functions/adapters/thread-calls';
import { StoreUnavailableError, isUnavailable } from '../../../functions/ports/unavailable';

describe('calls to another thread', () => {
  it('keeps a store that did not answer unavailable across the thread, and a refused statement not', async () => {
    // The other side answers each call with the error it names, as the aggregator thread answers a history batch.
    const { port1, port2 } = new MessageChannel();
    port2.on('message', ({ id, fail }: { id: number; fail: string }) =>
      port2.postMessage({ id, error: replyError(fail === 'unavailable' ? new StoreUnavailableError('PGlite', new Error('its thread exited with 1')) : new Error('syntax error at or near "SELEC"')) }),
    );
    const calls = threadCaller(port1);
    try {
      const unavailable = await calls.call({ fail: 'unavailable' }).catch((error: unknown) => error);
      const refused = await calls.call({ fail: 'statement' }).catch((error: unknown) => error);

      expect([isUnavailable(unavailable), (unavailable as Error).message]).toEqual([true, 'PGlite is unavailable: its thread exited with 1']);
      expect([isUnavailable(refused), (refused as Error).message]).toEqual([false, 'syntax error at or near "SELEC"']);
    } finally {
      port1.close();
    }
  });
});
