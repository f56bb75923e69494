import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { ModelRunLine } from '../functions/local/model-runs';
import type { ModelRunReport } from '../functions/use-cases/run-models';
import { Stop, cliOptions, requireToken, runCli, unreachable } from './cli-options';

/*
 * `npm run model`: the nightly model run, now, on a running instance (POST /model-runs), with a
 * progress bar per model; the runtime streams the progress as it fits.
 */

const USAGE = `Usage: npm run model -- [options]
  --url URL          the running instance (default $MODEL_URL or http://127.0.0.1:3000)
  --token TOKEN      an admin bearer token (default $DEV_TOKEN, else \${DATA_DIR:-./.data}/dev-token)`;

function printReport(report: ModelRunReport): void {
  const lines = report.steps.map((step) => {
    if (step.status === 'fitted') return `  ${step.name}: version ${step.version} in ${step.seconds.toFixed(1)} s, ${JSON.stringify(step.quality)} (${step.artefact})`;
    if (step.status === 'skipped') return `  ${step.name}: skipped, ${step.reason}`;
    return `  ${step.name}: FAILED: ${step.error}`;
  });
  console.log([`Models run from ${report.startedAt} to ${report.finishedAt}`, ...lines].join('\n'));
}

async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    yield* parts.filter((line) => line.length > 0);
  }
  if (buffered.length > 0) yield buffered;
}

async function main(): Promise<number> {
  const values = cliOptions(USAGE, { url: { type: 'string' }, token: { type: 'string' } });
  const url = (values.url ?? process.env.MODEL_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const token = requireToken(values.token);
  let response: Response;
  try {
    response = await fetch(`${url}/model-runs`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    throw unreachable(url, error);
  }
  if (response.status === 401 || response.status === 403) throw new Stop(`The token was refused (${response.status}): a model run needs an admin token (--token, or DEV_TOKEN).`, 1);
  if (!response.ok || !response.body) throw new Stop(`The model run was refused (${response.status}).`, 1);
  const bars = new MultiBar({ hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
  // The step's name is in each bar's format, not its payload: off a terminal, cli-progress keeps no
  // payload but still draws the bars when it stops (a bare "{step}" before).
  const barOf = (step: string, total: number) => bars.create(total, 0, undefined, { format: `${step.padEnd(10)} {bar} {percentage}% | {value}/{total}` });
  const byStep = new Map<string, SingleBar>();
  let report: ModelRunReport | undefined;
  try {
    for await (const text of lines(response.body)) {
      const line = JSON.parse(text) as ModelRunLine | { error: { message: string } };
      if ('progress' in line) {
        const { step, done, total } = line.progress;
        const bar = byStep.get(step) ?? byStep.set(step, barOf(step, total)).get(step)!;
        bar.setTotal(total);
        bar.update(done);
      } else if ('report' in line) report = line.report;
      else throw new Stop(`The model run stopped: ${line.error.message}.`, 1);
    }
  } finally {
    bars.stop();
  }
  if (!report) throw new Stop('The runtime closed the answer before the report: see its log.', 1);
  printReport(report);
  return report.steps.some((step) => step.status === 'failed') ? 1 : 0;
}

runCli(main);
