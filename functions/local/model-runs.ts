import { PassThrough } from 'node:stream';
import type { Logger } from '../adapters/log';
import { MODEL_RUN_HOUR_UTC, type ModelRunReport, type RunModels } from '../use-cases/run-models';
import type { OperationAnswer } from './http-server';
import { RepeatingJob } from './repeating-job';

const DAY_MS = 86_400_000;

/** Milliseconds from `now` to the next MODEL_RUN_HOUR_UTC o'clock. */
export function untilNextRun(now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), MODEL_RUN_HOUR_UTC);
  return (today > now.getTime() ? today : today + DAY_MS) - now.getTime();
}

/** One line of the answer of POST /model-runs: progress while it runs, then the report. */
export type ModelRunLine = { readonly progress: { readonly step: string; readonly done: number; readonly total: number } } | { readonly report: ModelRunReport };

/**
 * The local runtime's model run: nightly like the stack's rule, and by hand through POST
 * /model-runs (`npm run model`), whose answer streams a line of JSON per step of progress and
 * then the report. Runs never overlap: a run asked for while one is going waits for it.
 */
export function localModelRuns(runModels: RunModels, logger: Logger) {
  let previous: Promise<unknown> = Promise.resolve();
  function runAfterPrevious(onLine: (line: ModelRunLine) => void): Promise<ModelRunReport> {
    const run = previous.then(() => runModels((step, done, total) => onLine({ progress: { step, done, total } })));
    previous = run.catch(() => undefined);
    return run;
  }
  const nightly = new RepeatingJob('model run', DAY_MS, () => runAfterPrevious(() => undefined), logger);

  return {
    start: (now: Date) => nightly.start(untilNextRun(now)),
    stop: () => nightly.stop(),
    /** One run now, after any in flight: its report. */
    run: () => runAfterPrevious(() => undefined),
    /** POST /model-runs: the body is ignored; the answer is the run, line by line. */
    upload: async (body: AsyncIterable<Uint8Array>): Promise<OperationAnswer> => {
      for await (const _chunk of body) {
        // Read to its end: a client still sending would otherwise never see the answer.
      }
      const stream = new PassThrough();
      runAfterPrevious((line) => stream.write(`${JSON.stringify(line)}\n`))
        .then((report) => stream.end(`${JSON.stringify({ report } satisfies ModelRunLine)}\n`))
        .catch((error: unknown) => {
          logger.error('model run failed', { error: error instanceof Error ? error.message : 'unknown' });
          stream.end(`${JSON.stringify({ error: { code: 'internal', message: 'the model run failed' } })}\n`);
        });
      return { status: 200, contentType: 'application/x-ndjson', body: stream };
    },
  };
}
