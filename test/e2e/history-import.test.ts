import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const run = promisify(execFile);
const DAY = 86_400_000;
const USERS = Array.from({ length: 12 }, (_, i) => `history-user-${i}`);
// Midday 45 days ago: far past ingest's 30-day window, inside the hour rows' retention.
const DAY_45 = Math.floor((Date.now() - 45 * DAY) / DAY) * DAY;
const DAY_45_T = new Date(DAY_45).toISOString().replace('.000Z', 'Z');
const CANARY = 'history.canary@example.org';

/** Five events a user on that day: 60 in all. */
const HISTORY = USERS.flatMap((userId, u) =>
  Array.from({ length: 5 }, (_, i) => makeEvent({ eventId: randomUUID(), userId, occurredAt: new Date(DAY_45 + 12 * 3_600_000 + (u * 5 + i) * 60_000).toISOString() }, 'session.started')),
);
const LINES = [
  ...HISTORY.slice(0, 2).map((event) => JSON.stringify(event)),
  `{"userId": "${CANARY}", "type": broken`,
  '',
  JSON.stringify(makeEvent({ userId: 'never-consented', occurredAt: new Date(DAY_45).toISOString() })),
  ...HISTORY.slice(2).map((event) => JSON.stringify(event)),
];

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function importCli(app: TestRuntime, ...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'bin/import.ts', ...args, '--url', app.runtime.url], { env: { ...process.env, DEV_TOKEN: '' }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run import: history older than the live window, into a running runtime', () => {
  let app: TestRuntime;
  let folder: string;
  let plain: string;
  const counted = async () => {
    const query = `from=${new Date(DAY_45 - DAY).toISOString()}&to=${new Date(DAY_45 + 2 * DAY).toISOString()}&interval=day`;
    const answer = await app.request('GET', `/v1/metrics/sessions?${query}`);
    return answer.body.series.flatMap((series: { points: { t: string; count: number }[] }) => series.points.map((point) => [point.t, point.count]));
  };

  beforeAll(async () => {
    app = await startTestRuntime();
    // As in a runtime up for a minute: the roll-up has passed every minute before now.
    await app.runtime.rollUp();
    await app.consent(USERS);
    folder = mkdtempSync(join(tmpdir(), 'history-import-'));
    plain = join(folder, 'history.jsonl');
    writeFileSync(plain, `${LINES.join('\n')}\n`);
    writeFileSync(join(folder, 'history.jsonl.gz'), gzipSync(`${LINES.join('\r\n')}\r\n`));
    writeFileSync(join(folder, 'cut.jsonl.gz'), gzipSync(LINES.join('\n')).subarray(0, 200));
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('stores the history, reports the bad line by number and the refusals by code, and prints no personal data', async () => {
    const result = await importCli(app, plain, '--token', app.runtime.tokens.devToken);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Read 62 events');
    expect(result.stdout).toContain('accepted 60');
    expect(result.stdout).toContain('duplicates 0');
    expect(result.stdout).toContain('rejected 2 (malformed_line 1, consent_missing 1)');
    expect(result.stdout).toContain('line 3: malformed_line');
    expect(result.stdout).toContain('line 5: consent_missing');
    expect(result.stdout + result.stderr).not.toContain(CANARY);
    expect(await counted()).toEqual([[DAY_45_T, 60]]);
  }, 60_000);

  it('writes history past the minute rows\' retention (a week) to its hours and days only, not to minute rows for the purge to delete', async () => {
    // Every user's mood in one minute of that day: a minute point of 12 users, over k, would be shown.
    const minute = DAY_45 + 6 * 3_600_000;
    const moods = USERS.map((userId) => makeEvent({ eventId: randomUUID(), userId, occurredAt: new Date(minute + 30_000).toISOString() }, 'mood.reported'));
    const file = join(folder, 'moods.jsonl');
    writeFileSync(file, `${moods.map((event) => JSON.stringify(event)).join('\n')}\n`);
    expect((await importCli(app, file, '--token', app.runtime.tokens.devToken)).stdout).toContain('accepted 12');

    const points = async (interval: string, from: number, to: number) => {
      const answer = await app.request('GET', `/v1/metrics/mood.valence?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&interval=${interval}`);
      expect(answer.status).toBe(200);
      return answer.body.series.flatMap((series: { points: { count: number }[] }) => series.points.map((point) => point.count));
    };
    expect(await points('hour', minute, minute + 3_600_000)).toEqual([12]);
    expect(await points('day', DAY_45, DAY_45 + DAY)).toEqual([12]);
    expect(await points('minute', minute, minute + 3_600_000)).toEqual([]);
  }, 60_000);

  it('changes nothing when run again, from the same events gzipped with CRLF line ends', async () => {
    const result = await importCli(app, join(folder, 'history.jsonl.gz'), '--token', app.runtime.tokens.devToken);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('accepted 0');
    expect(result.stdout).toContain('duplicates 60');
    expect(await counted()).toEqual([[DAY_45_T, 60]]);
  }, 60_000);

  it('stops with one clear error for a missing file, a refused token, a cut-off gzip file', async () => {
    const missing = await importCli(app, join(folder, 'nope.jsonl'), '--token', app.runtime.tokens.devToken);
    const refused = await importCli(app, plain, '--token', 'not-a-token');
    const cut = await importCli(app, join(folder, 'cut.jsonl.gz'), '--token', app.runtime.tokens.devToken);

    expect([missing.code, missing.stderr.trim()]).toEqual([1, `Cannot import ${join(folder, 'nope.jsonl')}: no such file.`]);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('The token was refused (401)')]);
    expect([cut.code, cut.stderr]).toEqual([1, expect.stringContaining('The import stopped (400): the file starts as gzip but is not valid gzip')]);
    expect(await counted()).toEqual([[DAY_45_T, 60]]);
  }, 120_000);

  it('takes an import from an admin token only', async () => {
    const analyst = app.runtime.tokens.issue('analyst', 'analyst-1');
    const answer = await fetch(`${app.runtime.url}/imports`, { method: 'POST', headers: { authorization: `Bearer ${analyst}` }, body: LINES[0] });

    expect(answer.status).toBe(403);
    expect(await answer.json()).toEqual({ error: { code: 'forbidden', message: 'only an admin token may call POST /imports' } });
  });
});
