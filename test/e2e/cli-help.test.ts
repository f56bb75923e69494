import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

async function cli(script: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return run('npx', ['tsx', script, ...args], { cwd: root, env: { ...process.env, DATA_DIR: join(root, '.jest-cache', 'cli-help-data') } }).then(
    ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ status: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

// Every command-line tool a README step names: npm start, token, demo, audit:verify, import, population, model, report.
const TOOLS = [
  ['npm start', 'bin/local.ts'],
  ['npm run token', 'bin/token.ts'],
  ['npm run demo', 'bin/demo.ts'],
  ['npm run audit:verify', 'bin/audit-verify.ts'],
  ['npm run import', 'bin/import.ts'],
  ['npm run population', 'bin/population.ts'],
  ['npm run model', 'bin/model.ts'],
  ['npm run report', 'bin/report.ts'],
] as const;

describe.each(TOOLS)('%s', (command, script) => {
  it('answers --help with its usage and exit status 0', async () => {
    const { status, stdout } = await cli(script, ['--help']);

    expect([status, stdout.startsWith(`Usage: ${command}`)]).toEqual([0, true]);
  });

  it('answers a misspelled option with what was wrong and its usage, exit status 2, and no stack trace', async () => {
    const { status, stderr } = await cli(script, ['--no-such-option']);

    expect(status).toBe(2);
    expect(stderr).toContain("Unknown option '--no-such-option'");
    expect(stderr).toContain(`Usage: ${command}`);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
