import type { InitializeHandlerArguments, InitializeHandlerOutput, InitializeMiddleware, MetadataBearer, Pluggable } from '@smithy/types';
import type { Logger } from '../log';

/**
 * Only for the emulated mode. An emulator (moto, LocalStack) restarted empty has forgotten the
 * stream, queues and tables the runtime created at start-up, and every call naming them fails
 * from then on. In AWS the stack owns those resources: nothing may create them, so the Lambda
 * handlers never add this to their clients.
 */
export interface RecreateLostResourceOptions {
  /** For the log: `kinesis stream events`, `sqs queue events-aggregate-dlq`. */
  readonly resource: string;
  /** Error names that mean the resource is gone: `ResourceNotFoundException`, `QueueDoesNotExist`. */
  readonly lostWhen: readonly string[];
  /** Creates the resource again and resolves once it takes calls (a stream once ACTIVE). */
  readonly recreate: () => Promise<void>;
  /**
   * How long after a recreation began a call still waits for it. Past that the call fails as it
   * would have, so ingest answers `stream_unavailable` (the client retries) instead of holding
   * the request while a slow emulator creates a stream.
   */
  readonly maxWaitMs?: number;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}

const DEFAULT_MAX_WAIT_MS = 5_000;

/**
 * A client plugin: a call that fails because its resource is gone recreates it (one recreation
 * at a time, however many calls failed together) and is sent once more.
 */
export function recreateLostResource(options: RecreateLostResourceOptions): Pluggable<object, MetadataBearer> {
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  let recreation: { readonly done: Promise<boolean>; readonly startedAt: number } | undefined;
  // Counts finished recreations: a call sent before the last one finished may still come back
  // "not found", and must be sent again, not start another recreation.
  let recreated = 0;

  function recreateOnce(): { readonly done: Promise<boolean>; readonly startedAt: number } {
    if (recreation) return recreation;
    options.logger.warn('emulated resource lost, recreating it', { resource: options.resource });
    const current = {
      startedAt: Date.now(),
      done: options.recreate().then(
        () => {
          recreated += 1;
          return true;
        },
        (error: unknown) => {
          options.logger.error('emulated resource not recreated', { resource: options.resource, error: error instanceof Error ? error.message : String(error) });
          return false;
        },
      ),
    };
    recreation = current;
    // Forgotten once settled, so a later loss (another emulator restart) recreates again.
    void current.done.finally(() => {
      if (recreation === current) recreation = undefined;
    });
    return current;
  }

  const middleware: InitializeMiddleware<object, MetadataBearer> =
    (next) =>
    async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<MetadataBearer>> => {
      const sentAfter = recreated;
      try {
        return await next(args);
      } catch (error) {
        if (!(error instanceof Error && options.lostWhen.includes(error.name))) throw error;
        if (recreated !== sentAfter) return next(args);
        const { done, startedAt } = recreateOnce();
        const left = startedAt + maxWaitMs - Date.now();
        let timer: NodeJS.Timeout | undefined;
        const ready = await Promise.race([done, new Promise<boolean>((resolve) => (timer = setTimeout(resolve, Math.max(0, left), false)))]);
        clearTimeout(timer);
        if (!ready) throw error;
        return next(args);
      }
    };

  return {
    applyToStack(stack) {
      stack.add(middleware, { step: 'initialize', name: 'recreateLostResource', override: true });
    },
  };
}
