import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EventBridgeEvent } from 'aws-lambda';
import type { Logger } from '../adapters/log';
import { lambdaLogger } from '../adapters/aws/lambda-logger';
import { dynamoDbClient, s3Client } from '../adapters/aws/clients';
import { DynamoConsentRegistry } from '../adapters/aws/dynamo-consent-registry';
import { isNoSuchKey } from '../adapters/aws/s3-object-store';
import { CachedConsentRegistry } from '../adapters/cached-consent-registry';
import { jsonLines } from '../adapters/json-lines';
import { SqlRollupStore } from '../adapters/pg/sql-rollup-store';
import { parseEnv } from '../config/env';
import { connectDatabase, importEnv, loadPepper } from '../config/lambda';
import { makeImportHistory, importFailure, type ImportHistory } from '../use-cases/import-history';
import { pseudonymisers } from './ingest';
import { minuteRollupCutoff } from '../domain/privacy/retention';
import { lazyHandler } from './lazy';

/** Files the import takes: JSON Lines under `imports/`, plain or gzipped. Anything else there (its own results) is left alone. */
export const IMPORT_PREFIX = 'imports/';
export const IMPORT_SUFFIXES = ['.jsonl', '.jsonl.gz'] as const;
export const RESULT_SUFFIX = '.result.json';

/** The part of S3's "Object Created" event on EventBridge the import reads. */
export type ObjectCreatedEvent = EventBridgeEvent<'Object Created', { bucket: { name: string }; object: { key: string } }>;

export interface ImportHandlerDeps {
  readonly importHistory: ImportHistory;
  readonly s3: S3Client;
  readonly logger: Logger;
}

const isImportFile = (key: string) => key.startsWith(IMPORT_PREFIX) && IMPORT_SUFFIXES.some((suffix) => key.endsWith(suffix));

/**
 * A file put under `imports/` in the imports bucket: imported (use-cases/import-history.ts), and
 * its summary, or why it stopped, written beside it as `FILE.result.json`. A store or registry
 * that did not answer is thrown after the result is written, so EventBridge retries the import,
 * which picks up where it stopped (nothing counts twice).
 */
export function makeImportHandler(deps: ImportHandlerDeps) {
  return async function handleObjectCreated(event: ObjectCreatedEvent): Promise<void> {
    const { bucket, object } = event.detail;
    if (!isImportFile(object.key)) return;
    const writeResult = (result: object) =>
      deps.s3.send(new PutObjectCommand({ Bucket: bucket.name, Key: `${object.key}${RESULT_SUFFIX}`, Body: JSON.stringify(result, null, 2), ContentType: 'application/json' }));
    let failure: ReturnType<typeof importFailure>;
    try {
      const file = await deps.s3.send(new GetObjectCommand({ Bucket: bucket.name, Key: object.key }));
      const summary = await deps.importHistory(jsonLines(file.Body as AsyncIterable<Uint8Array>));
      deps.logger.info('history imported', { read: summary.read, accepted: summary.accepted, duplicates: summary.duplicates });
      await writeResult({ status: 'done', file: object.key, finishedAt: new Date().toISOString(), ...summary });
      return;
    } catch (error) {
      // Deleted between its event and this read: there is nothing to import, and nothing to retry.
      if (isNoSuchKey(error)) failure = { status: 404, code: 'not_found', message: 'the file was gone before it was read' };
      else failure = importFailure(error);
      if (!failure) throw error;
      deps.logger.warn('history import stopped', { code: failure.code });
      await writeResult({ status: 'failed', file: object.key, finishedAt: new Date().toISOString(), error: { code: failure.code, message: failure.message } });
      if (failure.status >= 500) throw error;
    }
  };
}

const logger = lambdaLogger('import');

export const handler = logger.around(
  lazyHandler(async () => {
    const config = parseEnv(importEnv);
    const clock = { now: () => new Date() };
    return makeImportHandler({
      importHistory: makeImportHistory({
        consent: new CachedConsentRegistry(new DynamoConsentRegistry(dynamoDbClient(), config.CONSENT_TABLE_NAME), clock),
        pseudonymise: pseudonymisers(await loadPepper()),
        clock,
        rollups: new SqlRollupStore(await connectDatabase(), { minutesKeptFrom: () => minuteRollupCutoff({ minuteRollupDays: config.RETENTION_MINUTE_ROLLUP_DAYS }, clock.now()) }),
      }),
      s3: s3Client(),
      logger,
    });
  }),
);
