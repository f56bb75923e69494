import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import type { OperationAnswer } from './http-server';

/*
 * GET /docs: the API reference, Swagger UI rendering GET /openapi.json. Swagger UI because it
 * shows every operation with its parameters, answers and examples and can send a request with a
 * bearer token from the page; swagger-ui-dist because it is the prebuilt bundle, with no runtime
 * dependencies. Every file comes from node_modules through this runtime, none from a CDN, so the
 * page works offline, and the policy below lets the browser load nothing from elsewhere.
 */

// Node's resolution finds the package wherever npm put it, under tsx and jest alike.
const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));

/** The files of swagger-ui-dist the page loads; nothing else of that folder is served. */
const ASSETS = ['swagger-ui.css', 'index.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'] as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Only this origin. Swagger UI sets inline styles (its SVG sprite, highlighted code) and draws its
 * icons as `data:` images; both stay in the page, so they are allowed, and scripts are not inline.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export const API_REFERENCE_PATH = '/docs';
const assetPath = (file: string) => `${API_REFERENCE_PATH}/${file}`;
const INITIALIZER = 'initializer.js';

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Therapeutic analytics API reference</title>
    <link rel="stylesheet" href="${assetPath('swagger-ui.css')}">
    <link rel="stylesheet" href="${assetPath('index.css')}">
    <link rel="icon" type="image/png" href="${assetPath('favicon-32x32.png')}" sizes="32x32">
    <link rel="icon" type="image/png" href="${assetPath('favicon-16x16.png')}" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${assetPath('swagger-ui-bundle.js')}"></script>
    <script src="${assetPath(INITIALIZER)}"></script>
  </body>
</html>
`;

// BaseLayout: no top bar, whose box loads documents from any URL; no validator badge, which calls validator.swagger.io.
const INITIALIZER_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    validatorUrl: null,
  });
});
`;

const answer = (contentType: string, body: string | Buffer): OperationAnswer => ({ status: 200, contentType, body, headers: SECURITY_HEADERS });

/** The page, its initializer and the Swagger UI files it loads, by path, for the runtime to answer. */
export function apiReferencePages(): Record<string, () => Promise<OperationAnswer>> {
  const pages: Record<string, () => Promise<OperationAnswer>> = {
    [API_REFERENCE_PATH]: async () => answer(CONTENT_TYPES['.html']!, PAGE),
    [assetPath(INITIALIZER)]: async () => answer(CONTENT_TYPES['.js']!, INITIALIZER_SCRIPT),
  };
  for (const file of ASSETS) pages[assetPath(file)] = async () => answer(CONTENT_TYPES[extname(file)]!, await readFile(join(SWAGGER_UI_DIR, file)));
  return pages;
}
