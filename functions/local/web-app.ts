import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { OperationAnswer } from './http-server';

/** The built web app (`npm run build:web`, which `npm start` runs when the sources are newer). */
export const WEB_DIST = join(__dirname, '../../web/dist');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * The same headers CloudFront adds in AWS (lib/web-hosting.ts): the app loads nothing from
 * elsewhere, and talks only to its own origin.
 */
export const WEB_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

// The API's envelope, so a client (or a fuzzer) meets one shape of error on every path.
const errorEnvelope = (code: string, message: string) => JSON.stringify({ error: { code, message } });

const safeDecode = (path: string): string => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

/** How the app signs in here: with a bearer token pasted in (the development token, or one `npm run token` issues). */
const LOCAL_CONFIG = JSON.stringify({ apiBase: '', auth: { kind: 'token' } });

/**
 * GETs of the web app: its files, `/config.json`, and index.html for any other path that names no
 * file (the app's own routes, such as `/alerts/{id}` where alert messages link). Undefined for
 * the API's paths, which the caller answers. A path out of the folder is answered as an app route.
 */
export function webApp(dist: string = WEB_DIST): (url: URL) => Promise<OperationAnswer | undefined> {
  const root = normalize(dist);
  return async (url) => {
    if (url.pathname.startsWith('/v1/') || url.pathname === '/v1') return undefined;
    if (url.pathname === '/config.json') return { status: 200, contentType: 'application/json', body: LOCAL_CONFIG, headers: { 'cache-control': 'no-store' } };
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      return { status: 503, contentType: 'application/json', body: errorEnvelope('web_app_not_built', 'the web app is not built: run `npm run build:web` (npm start does it when its sources changed)') };
    }
    const file = normalize(join(root, safeDecode(url.pathname)));
    const inside = file.startsWith(`${root}${sep}`) && extname(file) !== '';
    const body = inside ? await readFile(file).catch(() => undefined) : undefined;
    if (body) {
      // Vite names assets by their content hash: a new build is new names, so they never go stale.
      const immutable = file.startsWith(join(root, 'assets') + sep);
      return { status: 200, contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', body, headers: { ...WEB_SECURITY_HEADERS, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' } };
    }
    if (extname(url.pathname) !== '') return { status: 404, contentType: 'application/json', body: errorEnvelope('not_found', `no file ${url.pathname}`) };
    return { status: 200, contentType: CONTENT_TYPES['.html']!, body: await readFile(index), headers: { ...WEB_SECURITY_HEADERS, 'cache-control': 'no-cache' } };
  };
}
