import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperationAnswer } from '../../../functions/local/http-server';
import { WEB_SECURITY_HEADERS, webApp } from '../../../functions/local/web-app';

const text = (answer: OperationAnswer | undefined): string => (Buffer.isBuffer(answer?.body) || typeof answer?.body === 'string' ? answer.body.toString() : '');

describe('the web app as the local runtime serves it', () => {
  let dist: string;
  const answer = (path: string, folder = dist) => webApp(folder)(new URL(`http://localhost${path}`));

  beforeAll(() => {
    dist = mkdtempSync(join(tmpdir(), 'web-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, '..', 'secret.txt'), 'outside');
  });
  afterAll(() => {
    rmSync(dist, { recursive: true, force: true });
    rmSync(join(dist, '..', 'secret.txt'), { force: true });
  });

  it('answers the app for its own routes, such as the alert page messages link to, with the security headers', async () => {
    for (const path of ['/', '/alerts/5b0c2f3e-1111-4222-8333-444455556666', '/dashboards/x']) {
      const page = await answer(path);
      expect({ path, status: page?.status, type: page?.contentType, body: text(page) }).toEqual({ path, status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><title>app</title>' });
      expect(page?.headers).toMatchObject({ ...WEB_SECURITY_HEADERS, 'cache-control': 'no-cache' });
    }
  });

  it('serves hashed assets as immutable and leaves the API to the API', async () => {
    const asset = await answer('/assets/index-abc123.js');
    expect([asset?.status, asset?.contentType, asset?.headers?.['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    expect(await answer('/v1/metrics')).toBeUndefined();
    expect(await answer('/v1')).toBeUndefined();
  });

  it('says how the app signs in here', async () => {
    const config = await answer('/config.json');
    expect(JSON.parse(text(config))).toEqual({ apiBase: '', auth: { kind: 'token' } });
  });

  it('answers a missing file, or one outside the folder, with a 404 in the API envelope', async () => {
    for (const path of ['/assets/gone.js', '/../secret.txt', '/%2e%2e/secret.txt', '/%E0%A4%A.js']) {
      const missing = await answer(path);
      expect({ path, status: missing?.status, code: JSON.parse(text(missing)).error.code }).toEqual({ path, status: 404, code: 'not_found' });
    }
  });

  it('says the app must be built when it is not, rather than a blank page', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'web-empty-'));
    const page = await answer('/', empty);
    expect([page?.status, JSON.parse(text(page)).error.code]).toEqual([503, 'web_app_not_built']);
    rmSync(empty, { recursive: true, force: true });
  });
});
