import { jsonLogger, logLevelFromEnv } from '../../../functions/adapters/log';

describe('the log level a function runs at', () => {
  it.each([
    [{ AWS_LAMBDA_LOG_LEVEL: 'WARN' }, 'warn'],
    [{ AWS_LAMBDA_LOG_LEVEL: 'FATAL' }, 'error'],
    [{ AWS_LAMBDA_LOG_LEVEL: 'TRACE' }, 'debug'],
    // Lambda's setting wins over the variable the local runtime uses.
    [{ AWS_LAMBDA_LOG_LEVEL: 'ERROR', LOG_LEVEL: 'debug' }, 'error'],
    [{ LOG_LEVEL: 'silent' }, 'silent'],
    [{ LOG_LEVEL: 'loud' }, 'info'],
    [{}, 'info'],
  ])('reads %j as %s', (env, level) => {
    expect(logLevelFromEnv(env)).toBe(level);
  });

  it("drops info lines when Lambda's log level is set to WARN", () => {
    const lines: string[] = [];
    const logger = jsonLogger('test', logLevelFromEnv({ AWS_LAMBDA_LOG_LEVEL: 'WARN' }), (line) => lines.push(line));
    logger.info('counted');
    logger.warn('slow');
    expect(lines.map((line) => JSON.parse(line).message)).toEqual(['slow']);
  });
});
