import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * The options of one of the project's command-line tools. `--help` prints `usage` and exits 0; a
 * misspelled or malformed option prints what was wrong and `usage`, and exits 2: a person who
 * mistypes a flag gets the usage, not a stack trace.
 */
export function cliOptions<const Options extends OptionsConfig>(usage: string, options: Options, args: string[] = process.argv.slice(2)) {
  return cliArguments(usage, options, { args, positionals: false }).values;
}

/** cliOptions, and the arguments that are no option (file names) where `positionals` allows them. */
export function cliArguments<const Options extends OptionsConfig>(usage: string, options: Options, { args = process.argv.slice(2), positionals = true } = {}) {
  const withHelp = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args, options: withHelp, strict: true, allowPositionals: positionals });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed;
}

/** Ends a command with a message for its user and an exit code, instead of a stack trace. */
export class Stop extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Reads `--name` as an integer 1..max (`fallback` when absent); anything else stops with the usage, exit 2. */
export function integerOption(usage: string) {
  return (name: string, raw: string | undefined, fallback: number, max: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new Stop(`--${name} must be an integer 1..${max}, got ${raw}\n\n${usage}`, 2);
    return value;
  };
}

/** The bearer token a command sends: `--token`, else DEV_TOKEN, else the one `npm start` wrote to the data folder. */
export function requireToken(explicit: string | undefined): string {
  if (explicit) return explicit;
  if (process.env.DEV_TOKEN) return process.env.DEV_TOKEN;
  const file = join(process.env.DATA_DIR ?? './.data', 'dev-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Stop('No token: pass --token, set DEV_TOKEN, or start the runtime once (`npm start`) so it writes .data/dev-token.', 2);
}

export function unreachable(url: string, error: unknown): Stop {
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  return new Stop(`Cannot reach ${url} (${cause}). Start the runtime with \`npm start\`, or point --url at a running instance.`, 1);
}

/** Stops with a message unless a runtime at `url` answers that it is ready. */
export async function checkReachable(url: string): Promise<void> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Stop(`${url}/health answered ${response.status}: the instance is not ready yet; try again in a moment.`, 1);
  } catch (error) {
    if (error instanceof Stop) throw error;
    throw unreachable(url, error);
  }
}

/** Runs a command's main: its number is the exit code; a Stop prints its message, anything else its stack. */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof Stop) {
        (error.exitCode === 0 ? console.log : console.error)(error.message);
        process.exitCode = error.exitCode;
        return;
      }
      console.error(error);
      process.exitCode = 1;
    },
  );
}
