import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { logLevelFromEnv, type LogFields, type Logger } from '../log';

/** A Logger whose lines carry the invocation they were written in. */
export interface LambdaLogger extends Logger {
  /**
   * Wraps a handler so that each invocation's lines name its Lambda request id and, for an API
   * Gateway event, the API's request id (as correlation_id), and so that debug sampling is drawn
   * again per invocation. The event itself is never logged: it carries what people sent.
   */
  around<Event, Result>(handler: (event: Event, context: Context) => Promise<Result>): (event: Event, context: Context) => Promise<Result>;
}

/** API Gateway's id of the request, which is also in its access log: where present. */
function apiRequestId(event: unknown): string | undefined {
  const id = (event as { requestContext?: { requestId?: unknown } } | null)?.requestContext?.requestId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The Lambda functions' Logger on Powertools: JSON lines with the function's name, cold start,
 * request id and X-Ray trace id. The level is the operator's (Lambda's log level, see
 * `logLevelFromEnv`); POWERTOOLS_LOGGER_SAMPLE_RATE turns debug on for that fraction of
 * invocations. The local runtime keeps `jsonLogger`: it has no invocations to name.
 */
export function lambdaLogger(service: string): LambdaLogger {
  const logger = new PowertoolsLogger({ serviceName: service, logLevel: logLevelFromEnv() });
  const fields = (values?: LogFields) => values ?? {};
  return {
    debug: (message, values) => logger.debug(message, fields(values)),
    info: (message, values) => logger.info(message, fields(values)),
    warn: (message, values) => logger.warn(message, fields(values)),
    error: (message, values) => logger.error(message, fields(values)),
    around: (handler) => async (event, context) => {
      logger.refreshSampleRateCalculation();
      logger.addContext(context);
      const correlationId = apiRequestId(event);
      if (correlationId !== undefined) logger.setCorrelationId(correlationId);
      try {
        return await handler(event, context);
      } finally {
        // Keys of this invocation (its correlation id) must not label the next one's lines.
        logger.resetKeys();
      }
    },
  };
}
