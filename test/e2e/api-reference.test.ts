import { ROUTES } from '../../functions/handlers/http/roles';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

type Json = Record<string, any>;

const CONTENT_TYPES: Readonly<Record<string, RegExp>> = { css: /^text\/css\b/, js: /^text\/javascript\b/, png: /^image\/png$/ };

/** Every `src` and `href` of the page. */
const referencesOf = (html: string): string[] => [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1]!);

/** GET /docs: the API reference page, served with its assets by the local runtime itself. */
describe('the API reference at /docs', () => {
  let app: TestRuntime;
  let page: Response;
  let html: string;

  beforeAll(async () => {
    app = await startTestRuntime();
    page = await fetch(`${app.runtime.url}/docs`);
    html = await page.text();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers an HTML page without a token, under a policy that lets it load nothing from elsewhere', () => {
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html\b/);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("connect-src 'self';");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html).toContain('<div id="swagger-ui"></div>');
  });

  it('references only its own assets, and no inline script', () => {
    const references = referencesOf(html);
    expect(references.length).toBeGreaterThanOrEqual(4);
    for (const reference of references) expect(reference).toMatch(/^\/docs\/[\w.-]+$/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('serves each asset with its content type', async () => {
    for (const reference of referencesOf(html)) {
      const asset = await fetch(`${app.runtime.url}${reference}`);
      const body = Buffer.from(await asset.arrayBuffer());
      expect({ reference, status: asset.status }).toEqual({ reference, status: 200 });
      expect(asset.headers.get('content-type')).toMatch(CONTENT_TYPES[reference.split('.').pop()!]!);
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
      expect(body.length).toBeGreaterThan(0);
    }
  });

  it('starts Swagger UI on /openapi.json, which answers without a token', async () => {
    const initializer = referencesOf(html).find((reference) => reference.endsWith('initializer.js'))!;
    const script = await (await fetch(`${app.runtime.url}${initializer}`)).text();
    expect(script).toContain('SwaggerUIBundle(');
    expect(script).toMatch(/url: '\/openapi\.json'/);
    const document = await app.request('GET', '/openapi.json', { token: null });
    expect(document.status).toBe(200);
    expect(document.body.openapi).toMatch(/^3\.1\./);
  });

  it('serves no other file of swagger-ui-dist, nor anything outside it', async () => {
    for (const path of ['/docs/package.json', '/docs/index.html', '/docs/../package.json', '/docs/%2e%2e/package.json', '/docs/swagger-ui-bundle.js.map']) {
      const answer = await fetch(`${app.runtime.url}${path}`);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
  });

  it('answers each operation the document lists outside ROUTES, with the media type it documents', async () => {
    const document = (await app.request('GET', '/openapi.json', { token: null })).body as Json;
    const own = Object.entries(document.paths as Json).flatMap(([path, item]) =>
      Object.entries(item as Json)
        .filter(([method]) => !(`${method.toUpperCase()} ${path}` in ROUTES))
        .map(([method, operation]) => ({ method, path, secured: (operation as Json).security !== undefined, mediaTypes: Object.keys((operation as Json).responses['200'].content as Json) })),
    );
    expect(own.length).toBeGreaterThan(0);
    for (const { method, path, secured, mediaTypes } of own) {
      // The import takes an admin token, and an empty body is an empty file.
      const answer = await fetch(`${app.runtime.url}${path}`, { method: method.toUpperCase(), headers: secured ? { authorization: `Bearer ${app.runtime.tokens.devToken}` } : {} });
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
      expect(mediaTypes).toContain(answer.headers.get('content-type'));
    }
  });
});
