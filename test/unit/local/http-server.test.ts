import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer } from '../../../functions/local/http-server';
import { localTokenAuthority } from '../../../functions/local/tokens';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const DEADLINE_MS = 300;

/** A POST whose body comes in `chunks` pieces `gapMs` apart; answers the status and body. */
function trickle(url: string, path: string, token: string, chunks: number, gapMs: number): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: hostname, port: Number(port), method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
    });
    outgoing.on('error', reject);
    let sent = 0;
    const next = () => {
      if (outgoing.destroyed) return;
      if (sent === chunks) return void outgoing.end();
      sent += 1;
      outgoing.write('{}'.padEnd(16, ' '));
      setTimeout(next, gapMs);
    };
    next();
  });
}

describe('the local HTTP front on slow bodies', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'http-server-'));
  const tokens = localTokenAuthority(dataDir, 'dev-token-for-this-test');
  let server: Awaited<ReturnType<typeof startHttpServer>>;

  beforeAll(async () => {
    server = await startHttpServer({
      port: 0,
      handlers: {},
      tokens,
      logger: silent,
      operations: {},
      bodyDeadlineMs: DEADLINE_MS,
      uploads: {
        '/imports': async (body) => {
          let bytes = 0;
          for await (const chunk of body) bytes += chunk.length;
          return { status: 200, contentType: 'text/plain', body: String(bytes) };
        },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 408 request_timeout to an API body that takes longer than its deadline', async () => {
    const answer = await trickle(server.url, '/v1/events', tokens.devToken, 10, DEADLINE_MS / 3);

    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.text)).toEqual({ error: { code: 'request_timeout', message: 'the request was not received in time' } });
  });

  it('takes an upload for as long as it keeps sending, well past that deadline', async () => {
    const answer = await trickle(server.url, '/imports', tokens.devToken, 12, DEADLINE_MS / 3);

    expect(answer).toEqual({ status: 200, text: String(12 * 16) });
    // Node's own bound on a whole request (300 s by default) is off: it cut long imports.
    expect(server.server.requestTimeout).toBe(0);
  });
});
