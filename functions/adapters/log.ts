/**
 * JSON lines on stdout, which CloudWatch (JSON log format) and the local runtime both take as
 * they are. Callers pass codes, counts and pseudonyms only, never event payloads.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
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
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): keyof typeof LEVELS {
  const value = env['LOG_LEVEL'];
  return value !== undefined && value in LEVELS ? (value as keyof typeof LEVELS) : 'info';
}
