import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';
import type { ImportSummary } from '../functions/domain/events/history-import';
import { Stop, cliArguments, requireToken, runCli, unreachable } from './cli-options';

/*
 * `npm run import -- FILE.jsonl`: history into a running instance. The file is streamed to the
 * runtime's import (POST /imports), which admits each line as ingest admits an event, without the
 * 30-day window; the runtime reads no faster than it stores, so the bytes sent are the progress.
 */

const USAGE = `Usage: npm run import -- FILE.jsonl [options]
  FILE               one event per line (JSON Lines), plain or gzipped (.jsonl.gz)
  --url URL          the running instance (default $IMPORT_URL or http://127.0.0.1:3000)
  --token TOKEN      an admin bearer token (default $DEV_TOKEN, else \${DATA_DIR:-./.data}/dev-token)`;

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Stop(`Cannot import ${path}: it is not a file.`, 1);
    return info.size;
  } catch (error) {
    if (error instanceof Stop) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new Stop(`Cannot import ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}.`, 1);
  }
}

function printSummary(summary: ImportSummary, seconds: number): void {
  const codes = Object.entries(summary.rejected).map(([code, count]) => `${code} ${count}`);
  const rejected = Object.values(summary.rejected).reduce((total, count) => total + count, 0);
  const lines = [
    `Read ${summary.read} events in ${seconds.toFixed(1)} s (${Math.round(summary.read / Math.max(seconds, 0.001))} events/s)`,
    `  accepted ${summary.accepted}`,
    `  duplicates ${summary.duplicates} (stored before, or repeated in the file: not counted again)`,
    `  rejected ${rejected}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`,
    ...summary.errors.map((error) => `  line ${error.line}: ${error.code}: ${error.message}`),
    ...(summary.errorsNotListed > 0 ? [`  ... and ${summary.errorsNotListed} more lines refused`] : []),
  ];
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  const { values, positionals: files } = cliArguments(USAGE, { url: { type: 'string' }, token: { type: 'string' } });
  if (files.length !== 1) throw new Stop(`Name one file to import${files.length > 1 ? `, not ${files.length}` : ''}.\n\n${USAGE}`, 2);
  const path = files[0]!;
  const url = (values.url ?? process.env.IMPORT_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const token = requireToken(values.token);
  const size = await fileSize(path);

  const bar = new SingleBar({ format: '{bar} {percentage}% | {value}/{total} bytes | ETA {eta_formatted}', hideCursor: true }, Presets.shades_classic);
  bar.start(size, 0);
  const file = createReadStream(path);
  let sent = 0;
  file.on('data', (chunk) => bar.update((sent += chunk.length)));
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(`${url}/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: Readable.toWeb(file),
      duplex: 'half',
    });
  } catch (error) {
    bar.stop();
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.syscall === 'open') throw new Stop(`Cannot import ${path}: ${(error as { cause: Error }).cause.message}.`, 1);
    throw unreachable(url, error);
  }
  const body = (await response.json().catch(() => ({}))) as ImportSummary & { error?: { message?: string } };
  bar.stop();
  if (response.status === 401 || response.status === 403) throw new Stop(`The token was refused (${response.status}): an import needs an admin token (--token, or DEV_TOKEN).`, 1);
  if (!response.ok) throw new Stop(`The import stopped (${response.status}): ${body.error?.message ?? 'no reason given'}. Events before that point are stored; run it again to finish (nothing counts twice).`, 1);
  printSummary(body, (Date.now() - started) / 1_000);
  return 0;
}

runCli(main);
