import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, ScheduledEvent } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { secretsManagerClient } from '../adapters/aws/clients';
import { parseEnv } from '../config/env';
import { jwksMirrorEnv } from '../config/lambda';
import { makeMirrorJwks } from '../use-cases/mirror-jwks';

export interface JwksHandlerDeps {
  readonly mirror: () => Promise<{ readonly keys: number }>;
  /** PUTs CloudFormation's answer to the custom resource's pre-signed response URL. */
  readonly answer: (responseUrl: string, body: string) => Promise<void>;
  readonly logger: Logger;
}

/**
 * The key mirror: hourly (an EventBridge rule) and at each deploy (a custom resource, answered
 * here: with no provider framework in front, the function reports to CloudFormation itself, and
 * always does, or the deploy would wait an hour for it). A deploy whose issuer's keys cannot be
 * read fails: its live view could verify no token.
 */
export function makeJwksHandler(deps: JwksHandlerDeps) {
  return async (event: ScheduledEvent | CloudFormationCustomResourceEvent): Promise<void> => {
    if (!('ResponseURL' in event)) {
      deps.logger.info('jwks mirrored', await deps.mirror());
      return;
    }
    let failure: string | undefined;
    if (event.RequestType !== 'Delete') {
      try {
        deps.logger.info('jwks mirrored', await deps.mirror());
      } catch (error) {
        failure = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
        deps.logger.error('jwks not mirrored', { error: failure });
      }
    }
    const { StackId, RequestId, LogicalResourceId } = event;
    await deps.answer(
      event.ResponseURL,
      JSON.stringify({ Status: failure ? 'FAILED' : 'SUCCESS', Reason: failure ?? 'mirrored', PhysicalResourceId: 'jwks-mirror', StackId, RequestId, LogicalResourceId }),
    );
  };
}

const ATTEMPTS = 3;

async function fetchJson(url: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      return await response.json();
    } catch (error) {
      if (attempt === ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

const logger = lambdaLogger('jwks');

export const handler = logger.around(async (event: ScheduledEvent | CloudFormationCustomResourceEvent) => {
  const config = parseEnv(jwksMirrorEnv);
  const secrets = secretsManagerClient();
  return makeJwksHandler({
    mirror: makeMirrorJwks({
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      fetchJson,
      keep: async (trust) => void (await secrets.send(new PutSecretValueCommand({ SecretId: config.JWKS_SECRET_ARN, SecretString: trust }))),
    }),
    // The URL is signed for an empty content type, as CloudFormation's own cfn-response sends it.
    answer: async (url, body) => {
      const response = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
      if (!response.ok) throw new Error(`CloudFormation's response URL answered ${response.status}`);
    },
    logger,
  })(event);
});
