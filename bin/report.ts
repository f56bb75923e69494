import { writeFile } from 'node:fs/promises';
import { SingleBar, Presets } from 'cli-progress';
import { Stop, cliOptions, requireToken, runCli, unreachable } from './cli-options';

/*
 * `npm run report`: one report from a running instance (POST /v1/reports), a progress bar while
 * the report function makes it, and its file written to --out.
 */

const USAGE = `Usage: npm run report -- --kind KIND --from INSTANT --to INSTANT --out FILE [options]
  --kind KIND        outcomes, operations or research
  --from INSTANT     the period's start, ISO 8601 (2027-03-01T00:00:00Z, or with the zone's offset)
  --to INSTANT       the period's end (excluded)
  --format FORMAT    pdf, xlsx, csv or html (default pdf; csv for research)
  --time-zone ZONE   the reader's IANA time zone (default UTC)
  --epsilon E        research only: the privacy budget the report spends
  --out FILE         where the file is written
  --url URL          the running instance (default $REPORT_URL or http://127.0.0.1:3000)
  --token TOKEN      an admin or analyst bearer token (default $DEV_TOKEN, else \${DATA_DIR:-./.data}/dev-token)`;

const POLL_MS = 250;

interface ReportPage {
  readonly status: 'queued' | 'running' | 'done' | 'failed';
  readonly progress: { readonly stage: string; readonly done: number; readonly total: number } | null;
  readonly files: readonly { readonly format: string; readonly url?: string; readonly bytes: number }[];
  readonly dataThrough: string | null;
  readonly error?: { readonly code: string; readonly message: string };
}

async function call(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    throw unreachable(new URL(url).origin, error);
  }
}

/** An answer's error message, as the API words it. */
async function refusal(response: Response): Promise<string> {
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
  return body.error?.message ?? `HTTP ${response.status}`;
}

async function main(): Promise<number> {
  const values = cliOptions(USAGE, {
    kind: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string' },
    'time-zone': { type: 'string' },
    epsilon: { type: 'string' },
    out: { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
  });
  for (const required of ['kind', 'from', 'to', 'out'] as const) if (values[required] === undefined) throw new Stop(`--${required} is required\n\n${USAGE}`, 2);
  const base = (values.url ?? process.env.REPORT_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${requireToken(values.token)}`, 'content-type': 'application/json' };
  const body = {
    kind: values.kind,
    from: values.from,
    to: values.to,
    ...(values.format !== undefined && { format: values.format }),
    ...(values['time-zone'] !== undefined && { timeZone: values['time-zone'] }),
    ...(values.epsilon !== undefined && { epsilon: Number(values.epsilon) }),
  };
  const created = await call(`${base}/v1/reports`, { method: 'POST', headers, body: JSON.stringify(body) });
  // The API names the field that is wrong; that is the message a person needs.
  if (created.status === 400) throw new Stop(`The report was refused: ${await refusal(created)}\n\n${USAGE}`, 2);
  if (!created.ok) throw new Stop(`The report was refused (${created.status}): ${await refusal(created)}`, 1);
  const { id } = (await created.json()) as { id: string };

  const bar = new SingleBar({ hideCursor: true, clearOnComplete: false, format: 'report {bar} {percentage}% | {stage}' }, Presets.shades_classic);
  bar.start(1, 0, { stage: 'queued' });
  let page: ReportPage;
  try {
    for (;;) {
      const answer = await call(`${base}/v1/reports/${id}`, { headers });
      if (!answer.ok) throw new Stop(`Reading report ${id} failed (${answer.status}): ${await refusal(answer)}`, 1);
      page = (await answer.json()) as ReportPage;
      if (page.progress) {
        bar.setTotal(page.progress.total);
        bar.update(page.progress.done, { stage: page.progress.stage });
      }
      if (page.status === 'done' || page.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (page.status === 'done') bar.update(bar.getTotal(), { stage: 'done' });
  } finally {
    bar.stop();
  }
  if (page.status === 'failed') throw new Stop(`Report ${id} failed: ${page.error?.message ?? 'no reason given'}`, 1);
  const file = page.files[0];
  if (!file?.url) throw new Stop(`Report ${id} is done but has no file to download.`, 1);
  const download = await call(file.url, {});
  if (!download.ok) throw new Stop(`Downloading report ${id} failed (${download.status}).`, 1);
  const bytes = Buffer.from(await download.arrayBuffer());
  await writeFile(values.out!, bytes);
  console.log(`Report ${id}: ${file.format.toUpperCase()}, ${bytes.length.toLocaleString('en-GB')} bytes, data through ${page.dataThrough ?? 'none'}, written to ${values.out}`);
  return 0;
}

runCli(main);
