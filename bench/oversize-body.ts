/**
 * Memory of the local HTTP server while a client streams an oversize body at it: the body is read
 * and dropped, so the peak must not grow with the body's size. The server (with a stub handler)
 * and the client run in this one process; the client sends the body chunked (no Content-Length)
 * from one 64 KiB buffer, so what grows with the body would be the server's. Prints the answer's
 * status and the process's RSS and ArrayBuffer memory before and at their peak (sampled every
 * 20 ms).
 *
 *   npx tsx bench/oversize-body.ts 50     (the body's size in MiB; try 50, 500, 2000)
 */
import { request } from 'node:http';
import { jsonLogger } from '../functions/adapters/log';
import { startHttpServer } from '../functions/local/http-server';

const MiB = 1024 * 1024;
const TOKEN = 'bench-token';

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 500) * MiB;
  const server = await startHttpServer({
    port: 0,
    handlers: { ingest: async () => ({ statusCode: 202, body: '{}' }) },
    tokens: { devToken: TOKEN, verify: (bearer) => (bearer === TOKEN ? { claims: { sub: 'bench', role: 'admin' } } : { rejected: 'bad_signature' }), issue: () => TOKEN },
    logger: jsonLogger('bench', 'silent'),
    operations: {},
  });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const before = process.memoryUsage();
  const peak = { rss: before.rss, arrayBuffers: before.arrayBuffers };
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
  }, 20);
  const status = await new Promise<number>((resolve, reject) => {
    const { port } = new URL(server.url);
    const outgoing = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/events', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    let sent = 0;
    const writeMore = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!outgoing.write(chunk)) return void outgoing.once('drain', writeMore);
      }
      outgoing.end();
    };
    writeMore();
  });
  clearInterval(sampler);
  const mib = (bytes: number) => (bytes / MiB).toFixed(1);
  console.log(`${mib(total)} MiB chunked: ${status}; RSS ${mib(before.rss)} -> peak ${mib(peak.rss)} MiB; ArrayBuffers ${mib(before.arrayBuffers)} -> peak ${mib(peak.arrayBuffers)} MiB`);
  await server.close();
}

void main();
