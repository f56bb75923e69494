import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchesExpected, readmeSteps, sectionOf, type ReadmeStep } from '../support/readme-steps';

const ROOT = join(__dirname, '..', '..');
const README_URL = 'http://127.0.0.1:3000';
// The demo at a tenth and a fifth of its default sizes: the same code path, a CI-sized run.
const DEMO_USERS = '200';
const DEMO_HISTORY_USERS = '100';
const READ_RETRY_MS = 90_000;
const TRANSCRIPT = join(ROOT, '.jest-cache', 'readme-setup-transcript.txt');
const STEP_TIMEOUT_MS = 180_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A clone as a reader has it after `npm ci`: every file of the repository but its data folder,
 * linked from a fresh folder, so `.data/dev-token` in a step is this run's and a reader's own
 * runtime on port 3000 is never touched.
 */
function installedTree(): string {
  const folder = mkdtempSync(join(tmpdir(), 'readme-setup-'));
  for (const entry of readdirSync(ROOT)) {
    if (entry !== '.data' && entry !== '.git') symlinkSync(join(ROOT, entry), join(folder, entry));
  }
  return folder;
}

/** One bash session for the whole walk, as a reader's terminal: variables set by a step stay set. */
class Terminal {
  private output = '';
  private readonly shell: ChildProcess;
  private steps = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.shell = spawn('bash', ['--norc', '--noprofile'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.shell.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.shell.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  async run(command: string): Promise<{ output: string; status: number }> {
    const marker = `<<<step ${(this.steps += 1)} ended `;
    this.output = '';
    this.shell.stdin?.write(`${command}\necho "${marker}$?>>>"\n`);
    const started = Date.now();
    for (;;) {
      const end = this.output.indexOf(marker);
      if (end >= 0) {
        const status = Number(/^(\d+)>>>/.exec(this.output.slice(end + marker.length))?.[1]);
        return { output: this.output.slice(0, end), status };
      }
      if (Date.now() - started > STEP_TIMEOUT_MS) throw new Error(`step did not finish in ${STEP_TIMEOUT_MS / 1_000} s:\n${command}\n--- printed so far ---\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): void {
    this.shell.stdin?.end('exit\n');
  }
}

// A step that changes nothing may be run again while what it reads settles (a reader would look
// again a second later); a step that writes runs once.
const readsOnly = (command: string) => !/-X (POST|PUT|DELETE)|\s-d\s|npm run demo|audit:verify/.test(command);

const describeStep = (step: ReadmeStep) => `README.md line ${step.line}: ${step.command.split('\n')[0]}`;

/**
 * README.md's Set-up section, followed in order the way a new user follows it: each command run
 * in one shell against `npm start` on a fresh data folder, each output compared with what the
 * README says it prints. The only liberties: a free port for 3000, and the demo at 200 users and 100 planted ones.
 */
describe('README.md Set-up, step by step', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const steps = readmeSteps(sectionOf(readme, 'Set-up'));
  let tree: string;
  let url: string;
  let terminal: Terminal;
  let env: NodeJS.ProcessEnv;
  let runtime: ReturnType<typeof startInBackground> | undefined;

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.jest-cache'), { recursive: true });
    tree = installedTree();
    url = `http://127.0.0.1:${await freePort()}`;
    env = { ...process.env, PORT: new URL(url).port, DEMO_URL: url, REPORT_URL: url, DEMO_USERS, DEMO_HISTORY_USERS, DATABASE_URL: '', REDIS_URL: '', AWS_ENDPOINT_URL: '', LOG_LEVEL: 'warn' };
    terminal = new Terminal(tree, env);
  });

  afterAll(async () => {
    terminal?.close();
    if (runtime) await runtime.stop();
    rmSync(tree, { recursive: true, force: true });
  });

  it('has steps, each with the output it should print', () => {
    const played = steps.filter((step) => step.directive !== 'skip');
    expect(played.length).toBeGreaterThan(10);
    expect(played.filter((step) => step.expected === undefined).map(describeStep)).toEqual([]);
    expect(steps.filter((step) => step.directive === 'background')).toHaveLength(1);
  });

  it('works as written, in order', async () => {
    const local = (text: string) => text.replaceAll(README_URL, url);
    // What each step printed, kept in .jest-cache for a reader (and the issue notes) to see.
    const transcript: string[] = [];
    const record = (step: ReadmeStep, printed: string) => {
      transcript.push(`$ ${step.command}\n${printed.trimEnd()}\n`);
      writeFileSync(TRANSCRIPT, `${transcript.join('\n')}`);
    };
    for (const step of steps) {
      if (step.directive === 'skip') continue;
      const command = local(step.command);
      const expected = local(step.expected ?? '');
      if (step.directive === 'background') {
        runtime = startInBackground(tree, env, command);
        await waitForOutput(() => runtime?.output ?? '', expected, step);
        record(step, runtime.output);
        continue;
      }
      if (step.directive === 'stop-runtime' && runtime) {
        await runtime.stop();
        if (!runtime.output.includes('stopping')) throw new Error(`${describeStep(step)}: the runtime did not stop as Ctrl-C stops it:\n${runtime.output}`);
        runtime = undefined;
      }
      let result = await terminal.run(command);
      const deadline = Date.now() + (readsOnly(command) ? READ_RETRY_MS : 0);
      while (!matchesExpected(result.output, expected) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        result = await terminal.run(command);
      }
      record(step, result.output);
      if (!matchesExpected(result.output, expected) || result.status !== 0) {
        throw new Error(`${describeStep(step)}\nexit status ${result.status}\n--- README says ---\n${expected}\n--- printed ---\n${result.output}`);
      }
    }
    expect(transcript).toHaveLength(steps.filter((step) => step.directive !== 'skip').length);
  }, 600_000);
});

/** A command in its own process group, stopped as Ctrl-C stops it: SIGINT to the whole group (npm, its shell, node). */
function startInBackground(cwd: string, env: NodeJS.ProcessEnv, command: string) {
  const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const state = {
    output: '',
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGINT');
      await exited;
    },
  };
  child.stdout?.on('data', (chunk: Buffer) => (state.output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (state.output += chunk.toString()));
  return state;
}

async function waitForOutput(read: () => string, expected: string, step: ReadmeStep): Promise<void> {
  const started = Date.now();
  while (!matchesExpected(read(), expected)) {
    if (Date.now() - started > STEP_TIMEOUT_MS) throw new Error(`${describeStep(step)}\n--- README says ---\n${expected}\n--- printed ---\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
