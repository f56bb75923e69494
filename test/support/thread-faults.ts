import { Session } from 'node:inspector';

export interface ThreadInspector {
  /** Runs `expression` inside worker thread `threadId` (its `worker.threadId`); resolves once the thread has evaluated it. */
  evaluate(threadId: number, expression: string): Promise<void>;
  /** After the threads it touched have ended or settled: detaching from a thread while it dies can hang. */
  close(): void;
}

/**
 * The inspector of this process, attached to its worker threads as a debugger would be: the way
 * to make a thread of the runtime fail for real (an uncaught exception, an unhandled rejection)
 * without a test hook in the product.
 */
export function threadInspector(): ThreadInspector {
  const session = new Session();
  session.connect();
  const sessions = new Set<string>();
  const replies = new Map<string, (value: unknown) => void>();
  let nextId = 1;
  session.on('NodeWorker.attachedToWorker', ({ params }) => sessions.add(params.sessionId));
  session.on('NodeWorker.detachedFromWorker', ({ params }) => sessions.delete(params.sessionId));
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
    const reply = JSON.parse(params.message) as { id?: number; result?: { result?: { value?: unknown } } };
    replies.get(`${params.sessionId}:${reply.id}`)?.(reply.result?.result?.value);
  });
  const enabled = new Promise<void>((resolve, reject) => session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) => (error ? reject(error) : resolve())));

  return {
    async evaluate(threadId, expression) {
      await enabled;
      // The inspector numbers workers its own way, so every thread is asked and only the one
      // whose threadId matches runs the expression.
      const guarded = `process.getBuiltinModule('node:worker_threads').threadId === ${threadId} ? ((${expression}), true) : false`;
      const answers = await Promise.all(
        [...sessions].map(
          (sessionId) =>
            new Promise<boolean>((resolve, reject) => {
              const id = nextId++;
              replies.set(`${sessionId}:${id}`, (value) => resolve(value === true));
              const message = JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression: guarded, returnByValue: true } });
              session.post('NodeWorker.sendMessageToWorker', { sessionId, message }, (error) => error && reject(error));
            }),
        ),
      );
      if (!answers.includes(true)) throw new Error(`no worker thread ${threadId} to inject into`);
    },
    close() {
      // Detached first: a session left attached to the process's workers slowed the threads of
      // runtimes that later suites start in the same jest worker.
      session.post('NodeWorker.disable', () => session.disconnect());
    },
  };
}

/** The thread throws an error nothing catches, on its next turn: what a missing error path does. */
export const uncaughtException = (message: string) => `setImmediate(() => { throw new Error(${JSON.stringify(message)}); })`;

/** A promise rejected with nobody listening: Node ends the thread for it by default. */
export const unhandledRejection = (message: string) => `setImmediate(() => { Promise.reject(new Error(${JSON.stringify(message)})); })`;

/** The thread's event loop blocked for good, as by a runaway loop or a catastrophic regular expression. */
export const blockedEventLoop = () => 'setImmediate(() => { for (;;); })';
