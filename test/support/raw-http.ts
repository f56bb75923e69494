import { Agent, request } from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Sent as written: not normalised, not re-escaped (fetch would do both). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | undefined;
  /** Send the body in chunks without Content-Length (Transfer-Encoding: chunked). */
  readonly chunked?: boolean;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/**
 * A keep-alive agent: thousands of requests on one or two sockets, as a real client would reuse
 * them. A socket idle for 4 s is dropped by the client, before the server's 5 s keep-alive timeout
 * closes it: reusing a socket the server is closing at that moment is a reset the client caused
 * (the race every keep-alive client has), not one the server answered with.
 */
export const keepAlive = new Agent({ keepAlive: true, maxSockets: 2, timeout: 4_000 });

/**
 * One request with node's HTTP client, so that the path reaches the server byte for byte and a
 * reset connection surfaces as what it is (a rejected promise with ECONNRESET or "socket hang
 * up"), not as a retried or hidden fetch failure.
 */
export function rawRequest(baseUrl: string, req: RawRequest, agent: Agent = keepAlive): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body && !req.chunked) headers['content-length'] = String(req.body.length);
    const outgoing = request({ host: hostname, port: Number(port), method: req.method, path: req.path, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    if (!req.body) return void outgoing.end();
    if (!req.chunked) return void outgoing.end(req.body);
    const CHUNK = 64 * 1024;
    let offset = 0;
    const writeMore = (): void => {
      while (offset < req.body!.length) {
        const chunk = req.body!.subarray(offset, offset + CHUNK);
        offset += CHUNK;
        if (!outgoing.write(chunk)) return void outgoing.once('drain', writeMore);
      }
      outgoing.end();
    };
    writeMore();
  });
}
