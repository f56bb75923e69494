// `npm start`: the whole product on this machine (README, "Running modes").
import { parseEnv } from '../functions/config/env';
import { localEnv } from '../functions/config/local';
import { startRuntime } from '../functions/local/runtime';
import { cliOptions } from './cli-options';

const USAGE = `Usage: npm start
Runs the whole product on this machine: the API at http://127.0.0.1:\${PORT:-3000}, the stream
consumers, the roll-up and the monitor. Configured by environment variables (README, "Running
modes"): PORT, HOST, DATA_DIR (default ./.data), DEV_TOKEN, K_ANONYMITY, LOG_LEVEL, and
DATABASE_URL, REDIS_URL, AWS_ENDPOINT_URL to use PostgreSQL, Redis and an AWS emulator instead
of the embedded parts. Ctrl-C stops it; data stays in DATA_DIR.`;

async function main(): Promise<void> {
  cliOptions(USAGE, {});
  const config = parseEnv(localEnv);
  const runtime = await startRuntime(config);
  process.stdout.write(
    [
      '',
      `Therapeutic analytics is running at ${runtime.url}`,
      `  database: ${runtime.mode.database}`,
      `  stream:   ${runtime.mode.stream}`,
      `  live:     ${runtime.mode.live}`,
      `  admin token: ${runtime.tokens.devToken}`,
      `  try: curl -H "Authorization: Bearer ${runtime.tokens.devToken}" "${runtime.url}/v1/metrics/events?from=...&to=...&interval=hour"`,
      `  API reference: ${runtime.url}/docs`,
      '  Ctrl-C stops it; data stays in DATA_DIR.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping...\n`);
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stopped with an error: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
