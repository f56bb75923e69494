/**
 * JSON lines on stdout, which CloudWatch (JSON log format) and the local runtime both take as
 * they are. Callers pass codes, counts and pseudonyms only, never event payloads.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  /** Off unless the level is debug; in Lambda, also on for the sampled share of invocations. */
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;

export function jsonLogger(service: string, level: keyof typeof LEVELS = 'info', write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const threshold = LEVELS[level];
  const emit = (name: keyof typeof LEVELS, message: string, fields?: LogFields) => {
    if (LEVELS[name] < threshold) return;
    write(JSON.stringify({ level: name, time: new Date().toISOString(), service, message, ...fields }));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** Lambda's application log levels (TRACE..FATAL), as this logger has them. */
const LAMBDA_LEVELS: Readonly<Record<string, keyof typeof LEVELS>> = { TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'error' };

/**
 * The function's log level as the operator set it: Lambda's own setting (applicationLogLevelV2,
 * passed as AWS_LAMBDA_LOG_LEVEL), else LOG_LEVEL (the local runtime, tests), else info.
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): keyof typeof LEVELS {
  const lambdaLevel = LAMBDA_LEVELS[env['AWS_LAMBDA_LOG_LEVEL'] ?? ''];
  if (lambdaLevel) return lambdaLevel;
  const value = env['LOG_LEVEL'];
  return value !== undefined && value in LEVELS ? (value as keyof typeof LEVELS) : 'info';
}
