import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { describeWithServices } from '../support/services';
import { startTestRuntime, type TestRuntime } from '../support/runtime';
import { makeEvent } from '../support/events';

/** Screenshots of every view, kept as the run's artefacts (README, "Web app"). */
const SCREENSHOTS = join(__dirname, '../../test-artifacts/web');

const VIEWS = [
  { path: '/', heading: 'Overview' },
  { path: '/explore', heading: 'Metric explorer' },
  { path: '/dashboards', heading: 'Dashboards' },
  { path: '/cohorts', heading: 'Cohorts' },
  { path: '/patterns', heading: 'Patterns' },
  { path: '/predictions', heading: 'Predictions' },
  { path: '/alerts', heading: 'Alerts' },
  { path: '/anomalies', heading: 'Anomalies' },
  { path: '/reports', heading: 'Reports' },
  { path: '/privacy', heading: 'Privacy and audit' },
];

/**
 * The web app as a person uses it, in Debian's chromium (never a downloaded browser), served by
 * the local runtime: sign-in, the dashboard builder, the live overview, the alert page alert
 * messages link to, and accessibility on every view. The app is built by the test run's global
 * set-up when its sources changed.
 */
describeWithServices(
  [],
  'the web app in a browser',
  () => {
    let app: TestRuntime;
    let browser: Browser;
    const problems: string[] = [];

    async function signedIn(token: string = app.runtime.tokens.devToken): Promise<Page> {
      // A context of its own (axe-core's Playwright builder needs one), so each test signs in afresh.
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
      await page.goto(`${app.runtime.url}/`);
      await page.getByLabel('Bearer token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      return page;
    }

    /** Waits until nothing matches (the app's CSP refuses the evaluated scripts waitForFunction needs). */
    async function settled(loading: Locator): Promise<void> {
      for (let waited = 0; (await loading.count()) > 0; waited += 100) {
        if (waited > 15_000) throw new Error('still loading after 15 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    /** Closes the page; no script error may have happened on it. */
    async function done(page: Page): Promise<void> {
      await page.context().close();
      expect(problems.splice(0)).toEqual([]);
    }

    beforeAll(async () => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      app = await startTestRuntime({ K_ANONYMITY: '2' });
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
      const users = ['web-user-1', 'web-user-2', 'web-user-3'];
      const events = users.flatMap((userId, index) => [
        makeEvent({ userId, sessionId: `web-session-${index}` }, 'session.started'),
        makeEvent({ userId, sessionId: `web-session-${index}` }, 'mood.reported'),
        makeEvent({ userId, sessionId: `web-session-${index}` }, 'session.ended'),
      ]);
      const posted = await app.postEvents(events);
      if (posted.status !== 202) throw new Error(`the seed events were refused: ${JSON.stringify(posted.body)}`);
      await app.runtime.drain();
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await app?.stop();
    });

    it('signs in, builds a dashboard of two widgets, and finds it kept after a reload', async () => {
      const page = await signedIn();
      await page.getByRole('link', { name: 'Dashboards' }).click();
      await page.getByLabel('New dashboard title').fill('Ward overview');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { level: 1, name: 'Ward overview' }).waitFor();
      await page.getByRole('button', { name: 'Edit' }).click();
      const addWidget = async (title: string, metric: string, chart: string, filter = '') => {
        await page.getByLabel('Widget title').fill(title);
        await page.getByLabel('Metric').selectOption(metric);
        await page.getByLabel('Chart').selectOption(chart);
        await page.getByLabel('Filter').fill(filter);
        await page.getByRole('button', { name: 'Add widget' }).click();
      };
      await addWidget('Events a day', 'events', 'line');
      await addWidget('Sessions a day', 'sessions', 'table', 'platform:ios');
      // Beside the first instead of under it.
      const place = page.getByRole('group', { name: 'Place of Sessions a day' });
      await place.getByLabel('Column').fill('6');
      await place.getByLabel('Row').fill('0');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Ward overview' }).waitFor();
      const widgets = page.locator('section.widget');
      await expect(widgets.locator('h2').allInnerTexts()).resolves.toEqual(['Events a day', 'Sessions a day']);
      await settled(page.locator('[data-widget-state="loading"]'));
      await expect(page.locator('[data-widget-state="drawn"]').count()).resolves.toBe(2);
      // The three users' sessions, read through the API's release gate (k = 2).
      await expect(widgets.nth(1).locator('td').first().innerText()).resolves.toBe('3');
      const stored = (await app.request('GET', '/v1/dashboards')).body.dashboards as { title: string; widgets: { title: string; grid: unknown; query: { filter?: unknown } }[] }[];
      expect(stored.find((dashboard) => dashboard.title === 'Ward overview')?.widgets.map(({ title, grid, query }) => ({ title, grid, filter: query.filter }))).toEqual([
        { title: 'Events a day', grid: { x: 0, y: 0, w: 6, h: 3 }, filter: undefined },
        { title: 'Sessions a day', grid: { x: 6, y: 0, w: 6, h: 3 }, filter: { platform: ['ios'] } },
      ]);
      await done(page);
    }, 60_000);

    it('refuses a save made on a version someone else has since saved, and says so', async () => {
      const made = await app.request('POST', '/v1/dashboards', { body: { title: 'Contested', sharedWith: [], widgets: [] } });
      expect(made.status).toBe(201);
      const page = await signedIn();
      await page.goto(`${app.runtime.url}/dashboards/${made.body.id as string}`);
      await page.getByRole('button', { name: 'Edit' }).click();
      const elsewhere = await app.request('PUT', `/v1/dashboards/${made.body.id as string}`, { body: { title: 'Contested, renamed', sharedWith: [], widgets: [], version: made.body.version } });
      expect(elsewhere.status).toBe(200);
      await page.getByLabel('Title', { exact: true }).fill('Contested, mine');
      await page.getByRole('button', { name: 'Save' }).click();
      await expect(page.getByRole('alert').innerText()).resolves.toContain('Someone saved this dashboard after you opened it');
      await page.getByRole('button', { name: 'Load their version' }).click();
      await page.getByRole('heading', { level: 1, name: 'Contested, renamed' }).waitFor();
      await done(page);
    }, 60_000);

    it('shows a crisis alert on the overview as it fires, without a reload, and opens it where alert messages link', async () => {
      const page = await signedIn();
      await page.getByText('Live (connected)').waitFor();
      let reloaded = false;
      page.on('framenavigated', () => (reloaded = true));
      await app.postEvents([makeEvent({ userId: 'web-crisis-user', attributes: { severity: 'imminent', source: 'self_report' } }, 'crisis.signal')]);
      const alert = page.locator('li.alert[data-rule="crisis-signal"]');
      await alert.waitFor({ timeout: 20_000 });
      expect(reloaded).toBe(false);

      await alert.getByRole('link').click();
      await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
      expect(page.url()).toMatch(/\/alerts\/[0-9a-f-]{36}$/);
      await page.getByRole('button', { name: 'Acknowledge' }).click();
      await expect(page.getByTestId('alert-status').filter({ hasText: 'acknowledged' }).innerText()).resolves.toBe('acknowledged');
      await done(page);
    }, 60_000);

    it('schedules a report as an admin: a bad zone is named, a good schedule is listed with its next runs', async () => {
      const page = await signedIn();
      await page.goto(`${app.runtime.url}/reports`);
      const form = page.getByRole('form', { name: 'New schedule' });
      await form.getByLabel('Schedule id').fill('weekly-outcomes');
      await form.getByLabel('Time zone').fill('Mars/Olympus');
      await form.getByRole('button', { name: 'Add schedule' }).click();
      await expect(page.getByRole('alert').innerText()).resolves.toContain('timeZone');

      await form.getByLabel('Time zone').fill('Europe/London');
      await form.getByLabel('Recipients (comma-separated)').fill('clinic-lead@example.org');
      await form.getByRole('button', { name: 'Add schedule' }).click();
      await page.getByTestId('schedules').getByRole('rowheader', { name: 'weekly-outcomes' }).waitFor();
      const stored = (await app.request('GET', '/v1/report-schedules')).body.schedules as { id: string; cron: string; timeZone: string; next: string[] }[];
      expect(stored.map(({ id, cron, timeZone, next }) => ({ id, cron, timeZone, runs: next.length }))).toEqual([{ id: 'weekly-outcomes', cron: '0 8 * * MON', timeZone: 'Europe/London', runs: 3 }]);
      await done(page);
    }, 60_000);

    it('shows a clinician only the views their role may open', async () => {
      const page = await signedIn(app.runtime.tokens.issue('clinician', 'clinician-web'));
      await expect(page.getByRole('navigation', { name: 'Views' }).getByRole('link').allInnerTexts()).resolves.toEqual(['Overview', 'Dashboards', 'Alerts']);
      await page.goto(`${app.runtime.url}/privacy`);
      await page.getByText('Your role does not open this view.').waitFor();
      await done(page);
    }, 60_000);

    it('signs in on the user pool’s hosted pages where config.json says so: PKCE, the state checked, the access token used', async () => {
      const hosted = 'https://sign-in.example';
      // The runtime's CSP lets the app call its own origin only; in AWS CloudFront's adds the hosted domain.
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
      let challenge = '';
      const exchanged: Record<string, string>[] = [];
      await page.route('**/config.json', (route) =>
        route.fulfill({ json: { apiBase: '', auth: { kind: 'cognito', clientId: 'web-client', domain: hosted, redirectUri: `${app.runtime.url}/`, scopes: ['openid', 'profile'] } } }),
      );
      await page.route(`${hosted}/oauth2/authorize?**`, (route) => {
        const asked = new URL(route.request().url());
        challenge = asked.searchParams.get('code_challenge') ?? '';
        expect(Object.fromEntries([...asked.searchParams].filter(([name]) => !['state', 'code_challenge'].includes(name)))).toEqual({
          response_type: 'code',
          client_id: 'web-client',
          redirect_uri: `${app.runtime.url}/`,
          scope: 'openid profile',
          code_challenge_method: 'S256',
        });
        return route.fulfill({ status: 302, headers: { location: `${app.runtime.url}/?code=the-code&state=${asked.searchParams.get('state')}` } });
      });
      await page.route(`${hosted}/oauth2/token`, (route) => {
        const form = Object.fromEntries(new URLSearchParams(route.request().postData() ?? ''));
        exchanged.push(form);
        const verified = createHash('sha256').update(form['code_verifier'] ?? '').digest('base64url') === challenge;
        return verified ? route.fulfill({ json: { access_token: app.runtime.tokens.issue('analyst', 'analyst-hosted'), token_type: 'Bearer' } }) : route.fulfill({ status: 400, json: { error: 'invalid_grant' } });
      });

      await page.goto(`${app.runtime.url}/`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      expect(exchanged.map(({ grant_type, client_id, code, redirect_uri }) => ({ grant_type, client_id, code, redirect_uri }))).toEqual([
        { grant_type: 'authorization_code', client_id: 'web-client', code: 'the-code', redirect_uri: `${app.runtime.url}/` },
      ]);
      expect(page.url()).toBe(`${app.runtime.url}/`);
      await expect(page.locator('.who').innerText()).resolves.toContain('analyst-hosted (analyst)');

      // An answer this tab did not ask for (another state) is refused.
      await page.goto(`${app.runtime.url}/?code=the-code&state=forged`);
      await expect(page.getByRole('alert').innerText()).resolves.toContain('was not asked for here');
      expect(exchanged).toHaveLength(1);
      await done(page);
    }, 60_000);

    it('has no accessibility violations on any view, and keeps a screenshot of each', async () => {
      const page = await signedIn();
      const alertId = ((await app.request('GET', '/v1/alerts')).body.alerts as { id: string }[])[0]?.id;
      const views = [...VIEWS, ...(alertId ? [{ path: `/alerts/${alertId}`, heading: 'Alerts' }] : [])];
      for (const view of views) {
        await page.goto(`${app.runtime.url}${view.path}`);
        await page.getByRole('heading', { level: 1, name: view.heading }).waitFor();
        await settled(page.getByText('Loading…'));
        const { violations } = await new AxeBuilder({ page }).analyze();
        expect({ view: view.path, violations: violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join('; ')}`) }).toEqual({ view: view.path, violations: [] });
        await page.screenshot({ path: join(SCREENSHOTS, `${view.path === '/' ? 'overview' : view.path.slice(1).replace(/\//g, '-')}.png`), fullPage: true });
      }
      await done(page);
    }, 180_000);
  },
  { commands: ['chromium'] },
);
