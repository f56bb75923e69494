import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { PopulationTruth } from '../../functions/domain/demo/planted-population';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const run = promisify(execFile);

describe('npm run population, then npm run import: a planted history into a running runtime', () => {
  let app: TestRuntime;
  let folder: string;

  beforeAll(async () => {
    app = await startTestRuntime();
    folder = mkdtempSync(join(tmpdir(), 'population-'));
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('writes the history and its truth, consents its users, and the import admits every event', async () => {
    const out = join(folder, 'history.jsonl.gz');
    const token = ['--url', app.runtime.url, '--token', app.runtime.tokens.devToken];
    const made = await run('npx', ['tsx', 'bin/population.ts', '--out', out, '--users', '30', '--weeks', '6', '--seed', '5', '--consent', ...token], { timeout: 60_000 });
    const imported = await run('npx', ['tsx', 'bin/import.ts', out, ...token], { timeout: 60_000 });

    const lines = gunzipSync(readFileSync(out)).toString('utf8').trim().split('\n');
    const truth = JSON.parse(readFileSync(join(folder, 'history.truth.json'), 'utf8')) as PopulationTruth;
    expect(truth.users).toHaveLength(30);
    expect(truth.weeks).toBe(6);
    expect(new Set(lines.map((line) => (JSON.parse(line) as { userId: string }).userId))).toEqual(new Set(truth.users.map((user) => user.userId)));
    expect(made.stdout).toContain(`${lines.length} events of 30 users over 6 weeks`);
    expect(made.stdout).toContain('Consent recorded for 30 users');
    expect(imported.stdout).toContain(`Read ${lines.length} events`);
    expect(imported.stdout).toContain(`accepted ${lines.length}`);
    expect(imported.stdout).toContain('rejected 0');
  }, 120_000);
});
