import type { Logger } from '../adapters/log';
import { jsonLines } from '../adapters/json-lines';
import { importFailure, type ImportHistory } from '../use-cases/import-history';
import type { OperationAnswer } from './http-server';

/**
 * POST /imports, the local runtime's stand-in for a file put under `imports/` in AWS: the body is
 * the file (JSON Lines, plain or gzipped), the answer its import's summary. `npm run import` sends it.
 */
export function importUpload(importHistory: ImportHistory, logger: Logger): (body: AsyncIterable<Uint8Array>) => Promise<OperationAnswer> {
  return async (body) => {
    try {
      const summary = await importHistory(jsonLines(body));
      logger.info('history imported', { read: summary.read, accepted: summary.accepted, duplicates: summary.duplicates, rejected: Object.values(summary.rejected).reduce((total, count) => total + count, 0) });
      return { status: 200, contentType: 'application/json', body: JSON.stringify(summary) };
    } catch (error) {
      const failure = importFailure(error);
      if (!failure) throw error;
      logger.warn('history import stopped', { code: failure.code });
      return { status: failure.status, contentType: 'application/json', body: JSON.stringify({ error: { code: failure.code, message: failure.message } }) };
    }
  };
}
