import { chromium, type Browser } from 'playwright-core';
import { describeWithServices } from '../support/services';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

type Json = Record<string, any>;

/**
 * /docs as a reader sees it: Debian's chromium (never a downloaded browser) renders Swagger UI
 * from the runtime alone, under the page's own content-security policy, with every request to
 * anywhere else refused, so the reference works offline.
 */
describeWithServices(
  [],
  'the API reference in a browser',
  () => {
    let app: TestRuntime;
    let browser: Browser;

    beforeAll(async () => {
      app = await startTestRuntime();
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
    });
    afterAll(async () => {
      await browser?.close();
      await app?.stop();
    });

    it('renders every operation of the document, loading nothing from elsewhere and breaking no policy', async () => {
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      const problems: string[] = [];
      await page.route('**/*', (route) => {
        if (route.request().url().startsWith(app.runtime.url)) return route.continue();
        elsewhere.push(route.request().url());
        return route.abort();
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });

      await page.goto(`${app.runtime.url}/docs`);
      await page.locator('.opblock').first().waitFor({ timeout: 30_000 });

      const document = (await (await fetch(`${app.runtime.url}/openapi.json`)).json()) as Json;
      const operations = Object.values(document.paths as Json).flatMap((path) => Object.keys(path as Json));
      expect(await page.locator('.opblock').count()).toBe(operations.length);
      expect(await page.locator('.opblock-summary-path', { hasText: '/v1/alerts' }).count()).toBeGreaterThan(0);
      expect(await page.locator('.info .title').innerText()).toContain(document.info.title);
      expect(elsewhere).toEqual([]);
      expect(problems).toEqual([]);
    }, 60_000);
  },
  { commands: ['chromium'] },
);
