import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const START = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;

const onLinux = process.platform === 'linux';
const LAUNCHED = { cmdline: ['--max-semi-space-size=8', '--max-old-space-size=384', join(ROOT, 'bin', 'local.ts')], environ: ['MALLOC_ARENA_MAX=2'] };

/** The process that runs bin/local.ts: the launcher's child (Linux, through /proc). */
function runtimeOf(launcher: number): { cmdline: string[]; environ: string[] } | undefined {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== launcher) continue;
      return { cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'), environ: readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0') };
    } catch {
      // gone while listed
    }
  }
  return undefined;
}

/** `npm start` as a person runs it: what it prints, that it serves, and that Ctrl-C ends it cleanly. */
describe('npm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints its URL and admin token, answers with that token, and exits 0 on Ctrl-C keeping its data', async () => {
    expect(START).toBe('node bin/start.mjs');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'start.mjs')], {
      env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '', AWS_ENDPOINT_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const started = Date.now();
    while (!/admin token: \S+/.test(output) && Date.now() - started < 60_000) await new Promise((resolve) => setTimeout(resolve, 100));
    const url = /running at (http:\/\/\S+)/.exec(output)?.[1];
    const token = /admin token: (\S+)/.exec(output)?.[1];
    const range = 'from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&interval=day';
    const metrics = await fetch(`${url}/v1/metrics/events?${range}`, { headers: { authorization: `Bearer ${token}` } });
    const runtime = onLinux ? runtimeOf(child.pid!) : undefined;
    child.kill('SIGINT');

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metrics.status).toBe(200);
    expect(await exited).toBe(0);
    expect(output).toContain('stopping');
    expect(existsSync(join(dataDir, 'pg'))).toBe(true);
    expect(existsSync(join(dataDir, 'stream'))).toBe(true);
    // The runtime runs with the launcher's memory settings (README, "Footprint"); /proc tells on Linux.
    const seen = onLinux ? runtime : LAUNCHED;
    expect(seen?.cmdline).toEqual(expect.arrayContaining(LAUNCHED.cmdline));
    expect(seen?.environ).toEqual(expect.arrayContaining(LAUNCHED.environ));
  });
});
