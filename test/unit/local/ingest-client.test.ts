import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IngestFailed, postEvents } from '../../../functions/local/ingest-client';
import type { IncomingEvent } from '../../../functions/domain/events/schema';

interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: unknown;
}

const BACKLOG: Answer = { status: 429, headers: { 'retry-after': '3' }, body: { error: { code: 'ingest_backlog', message: 'the detect consumer is 13 s behind' } } };
const ACCEPTED: Answer = { status: 202, body: { accepted: 1, rejected: [] } };
const EVENTS = [{ type: 'session.started', userId: 'u-1' }] as unknown as IncomingEvent[];

describe('postEvents, the demo\'s client of POST /v1/events', () => {
  let server: Server;
  let url: string;
  let script: Answer[];
  let bodies: string[];

  beforeEach(async () => {
    bodies = [];
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        bodies.push(body);
        const answer = script.shift() ?? ACCEPTED;
        response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const waitsOf = () => {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  };

  it('waits out a 429 for its Retry-After and sends the whole batch again, without spending a try', async () => {
    script = [BACKLOG, BACKLOG, BACKLOG, ACCEPTED];
    const { waits, sleep } = waitsOf();

    const result = await postEvents(EVENTS, { url, token: 't', maxAttempts: 2, sleep });

    expect(result).toEqual({ accepted: 1, rejected: [] });
    expect(waits).toEqual([3_000, 3_000, 3_000]);
    expect(bodies).toEqual(Array(4).fill(JSON.stringify({ events: EVENTS })));
  });

  it('gives up when the backlog holds a batch back longer than it may wait', async () => {
    script = [BACKLOG, BACKLOG, BACKLOG];
    const { waits, sleep } = waitsOf();

    const failure = await postEvents(EVENTS, { url, token: 't', maxBacklogWaitMs: 7_000, sleep }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(IngestFailed);
    expect((failure as IngestFailed).status).toBe(429);
    expect((failure as IngestFailed).message).toContain('held back');
    expect(waits).toEqual([3_000, 3_000]);
  });

  it('backs off with jitter on a 429 without Retry-After (API Gateway\'s throttle) and on 5xx, and counts those tries', async () => {
    script = [{ status: 429, body: { message: 'Too Many Requests' } }, { status: 503, body: {} }, { status: 500, body: {} }];
    const { waits, sleep } = waitsOf();

    const failure = await postEvents(EVENTS, { url, token: 't', maxAttempts: 3, sleep, random: () => 0.5 }).catch((error: unknown) => error);

    expect((failure as IngestFailed).message).toContain('after 3 attempts');
    expect(waits).toEqual([500, 1_000]);
  });

  it('does not retry what the request itself got wrong', async () => {
    script = [{ status: 401, body: { error: { code: 'unauthorized', message: 'no token' } } }];

    const failure = await postEvents(EVENTS, { url, token: 't', sleep: async () => undefined }).catch((error: unknown) => error);

    expect((failure as IngestFailed).status).toBe(401);
    expect(bodies).toHaveLength(1);
  });
});
