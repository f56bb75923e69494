import { Worker, parentPort } from 'node:worker_threads';
import { replyError, threadCaller, workerReady, type ThreadCaller } from '../adapters/thread-calls';
import { reportRenderersOf } from '../config/report-renderers';
import { REPORT_FORMATS, type ReportDocument, type ReportFormat } from '../domain/reports/document';
import type { ReportRenderer, ReportRun } from '../ports/reports';

/**
 * The local runtime's renderers, in a thread of their own: a month's PDF takes seconds of CPU,
 * and on the runtime's main thread those seconds would hold up every ingest request (in AWS the
 * report function has its own instance). The thread starts on the first render and stays.
 */
export class RenderThread {
  private started: Promise<{ worker: Worker; calls: ThreadCaller }> | undefined;

  renderersOf(run: Pick<ReportRun, 'kind' | 'release'>): Readonly<Record<ReportFormat, ReportRenderer>> {
    const local = reportRenderersOf(run);
    const threaded = (format: ReportFormat): ReportRenderer => ({
      format,
      contentType: local[format].contentType,
      render: async (document: ReportDocument) => {
        const { calls } = await this.start();
        const reply = await calls.call({ run: { kind: run.kind, release: run.release }, format, document });
        return Buffer.from(reply['bytes'] as Uint8Array);
      },
    });
    return Object.fromEntries(REPORT_FORMATS.map((format) => [format, threaded(format)])) as Record<ReportFormat, ReportRenderer>;
  }

  async stop(): Promise<void> {
    const started = this.started;
    this.started = undefined;
    if (started) await (await started).worker.terminate();
  }

  private start() {
    this.started ??= (async () => {
      const worker = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(__filename)}).runRenderThread();`, { eval: true });
      // Never keeps the runtime alive by itself: stopping is the runtime's call.
      worker.unref();
      await workerReady(worker, 'the render thread');
      const calls = threadCaller(worker);
      worker.once('exit', (code) => {
        calls.fail(new Error(`the render thread exited with ${code}`));
        this.started = undefined;
      });
      return { worker, calls };
    })().catch((error: unknown) => {
      // The next render tries a new thread.
      this.started = undefined;
      throw error;
    });
    return this.started;
  }
}

/** The thread's side: renders each request with the same renderers the report function uses. */
export function runRenderThread(): void {
  const port = parentPort!;
  port.on('message', (request: { id: number; run: Pick<ReportRun, 'kind' | 'release'>; format: ReportFormat; document: ReportDocument }) => {
    reportRenderersOf(request.run)
      [request.format].render(request.document)
      .then((bytes) => {
        const copy = new Uint8Array(bytes);
        port.postMessage({ id: request.id, bytes: copy }, [copy.buffer]);
      })
      .catch((error: unknown) => port.postMessage({ id: request.id, error: replyError(error) }));
  });
  port.postMessage({ ready: true });
}
