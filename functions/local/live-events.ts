import type { ServerResponse } from 'node:http';
import type { Logger } from '../adapters/log';
import { LIVE_HEADERS, streamLiveEvents, type LiveSource } from '../use-cases/live-events';

/** GET /v1/live on the local HTTP server: the response is the stream, until its client goes. */
export function liveEvents(source: LiveSource, options: { readonly k: number; readonly logger: Logger }): (response: ServerResponse) => void {
  return (response) => {
    response.writeHead(200, { ...LIVE_HEADERS, connection: 'keep-alive' });
    streamLiveEvents(source, response, options).catch((error: unknown) => options.logger.warn('live events stream failed', { error: error instanceof Error ? error.name : 'unknown' }));
  };
}
