import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * The options of one of the project's command-line tools. `--help` prints `usage` and exits 0; a
 * misspelled or malformed option prints what was wrong and `usage`, and exits 2: a person who
 * mistypes a flag gets the usage, not a stack trace.
 */
export function cliOptions<const Options extends OptionsConfig>(usage: string, options: Options, args: string[] = process.argv.slice(2)) {
  const withHelp = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args, options: withHelp, strict: true, allowPositionals: false });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed.values;
}
