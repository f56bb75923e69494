import { jsonLogger, logLevelFromEnv } from '../../../functions/adapters/log';
import type { Context } from 'aws-lambda';
import { lambdaLogger } from '../../../functions/adapters/aws/lambda-logger';

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

describe("the Lambda functions' Powertools logger", () => {
  const context = { awsRequestId: 'lambda-request-1', functionName: 'query', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:query', memoryLimitInMB: '512' } as Context;
  const saved = { ...process.env };
  let lines: Record<string, unknown>[];

  beforeEach(() => {
    lines = [];
    // Powertools writes warnings and errors to stderr, the rest to stdout.
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk) => {
        lines.push(JSON.parse(String(chunk)));
        return true;
      });
    }
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.env = { ...saved };
  });

  it("names the Lambda request and the API's request on each line, and forgets the API's after the invocation", async () => {
    const logger = lambdaLogger('query');
    const handler = logger.around(async (_event: unknown) => logger.info('answered', { status: 200 }));
    await handler({ requestContext: { requestId: 'api-request-1' }, body: 'never logged' }, context);
    await handler({ Records: [] }, { ...context, awsRequestId: 'lambda-request-2' });
    expect(lines).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'answered', service: 'query', status: 200, function_request_id: 'lambda-request-1', correlation_id: 'api-request-1' }),
      expect.objectContaining({ function_request_id: 'lambda-request-2' }),
    ]);
    expect(lines[1]).not.toHaveProperty('correlation_id');
    expect(JSON.stringify(lines)).not.toContain('never logged');
  });

  it("drops info lines when Lambda's log level is WARN", async () => {
    process.env['AWS_LAMBDA_LOG_LEVEL'] = 'WARN';
    const logger = lambdaLogger('query');
    await logger.around(async () => {
      logger.info('counted');
      logger.warn('slow');
    })({}, context);
    expect(lines.map((line) => line['message'])).toEqual(['slow']);
  });

  it('writes debug lines in a sampled invocation only', async () => {
    const log = async (rate: string) => {
      process.env['POWERTOOLS_LOGGER_SAMPLE_RATE'] = rate;
      const logger = lambdaLogger('query');
      await logger.around(async () => logger.debug('answered', { route: 'GET /v1/metrics' }))({}, context);
    };
    await log('0');
    expect(lines).toEqual([]);
    await log('1');
    expect(lines.filter((line) => line['message'] === 'answered')).toEqual([expect.objectContaining({ level: 'DEBUG', sampling_rate: 1 })]);
  });
});
