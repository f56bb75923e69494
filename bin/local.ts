// `npm start`: the whole product on this machine (README, "Running modes").
import { parseEnv } from '../functions/config/env';
import { localEnv } from '../functions/config/local';
import { startRuntime } from '../functions/local/runtime';

async function main(): Promise<void> {
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
