import type { MessagePort, Worker } from 'node:worker_threads';
import { isUnavailable } from '../ports/unavailable';

/**
 * Requests to another thread, answered by id: `{ id, ...request }` goes out, `{ id, ...reply }` or
 * `{ id, error: { message, code? } }` comes back. Used by the clients of the embedded database's
 * thread and by the local runtime's handle on its aggregator thread.
 */

/** The other thread's end: the worker itself or a port of a MessageChannel to it. */
export type ThreadEndpoint = Pick<Worker, 'postMessage' | 'on'> | Pick<MessagePort, 'postMessage' | 'on'>;

export type ThreadReply = { id: number; error?: { message: string; code?: string; transient?: true } } & Record<string, unknown>;

export interface ThreadCaller {
  readonly call: (request: Record<string, unknown>) => Promise<ThreadReply>;
  /** Fails every waiting and later call (the thread ended or broke). */
  readonly fail: (error: Error) => void;
}

export function threadCaller(endpoint: ThreadEndpoint): ThreadCaller {
  const pending = new Map<number, { resolve: (reply: ThreadReply) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  endpoint.on('message', (reply: ThreadReply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (!waiter) return;
    if (reply.error) waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code, ...(reply.error.transient && { transient: true }) }));
    else waiter.resolve(reply);
  });
  endpoint.on('error', fail);
  return {
    call(request) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        endpoint.postMessage({ id, ...request });
      });
    },
    fail,
  };
}

/** Resolves once the new worker posts `{ ready: true }`; rejects on `{ ready: false, error }` or an error. */
export function workerReady(worker: Worker, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { ready: boolean; error?: { message: string } }) =>
      message.ready ? resolve() : reject(new Error(`${what} did not start: ${message.error?.message ?? 'unknown'}`)),
    );
    worker.once('error', reject);
  });
}

/** The error part of a reply; an unavailable store's error stays one (isUnavailable) on the other side. */
export const replyError = (error: unknown): ThreadReply['error'] => ({
  message: error instanceof Error ? error.message : String(error),
  ...(typeof (error as { code?: unknown })?.code === 'string' && { code: (error as { code: string }).code }),
  ...(isUnavailable(error) && { transient: true as const }),
});
