/**
 * The web app's speed with the demo's data, measured in the browser with the Performance API
 * (issue 19 point 5): how long after navigation the overview stands usable (the marks
 * `overview-interactive`: its newest alerts listed, and the first paint), and how long a dashboard
 * of six widgets takes until every widget has drawn (`dashboard-drawn`), each in a new browser
 * context (nothing cached), RUNS times; then the built bundle's size.
 *
 * The runtime is `npm start` in a child process on DATA_DIR (default a fresh folder that
 * `npm run demo` fills first: about three minutes). Give DATA_DIR of a folder the demo has filled
 * to skip that; DEV_TOKEN is read from it.
 *
 *   npx tsx bench/web-speed.ts      (env: DATA_DIR, RUNS=7)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { median, spawnRuntime } from './support';

const RUNS = Number(process.env.RUNS ?? 7);
const DIST = join(__dirname, '..', 'web', 'dist', 'assets');

const SIX_WIDGETS = [
  { title: 'Events by type', chart: 'line', query: { metric: 'events', interval: 'hour', groupBy: ['type'], range: 'P30D' } },
  { title: 'Sessions by platform', chart: 'bar', query: { metric: 'sessions', interval: 'day', groupBy: ['platform'], range: 'P30D' } },
  { title: 'Session length by scenario', chart: 'line', query: { metric: 'session.duration', interval: 'day', groupBy: ['scenarioId'], range: 'P30D' } },
  { title: 'Response time by choice type', chart: 'area', query: { metric: 'choice.response_time', interval: 'day', groupBy: ['choiceType'], range: 'P30D' } },
  { title: 'Mood by week', chart: 'table', query: { metric: 'mood.valence', interval: 'week', groupBy: [], range: 'P30D', timeZone: 'Europe/London' } },
  { title: 'Active people by platform', chart: 'heatmap', query: { metric: 'active_users', interval: 'day', groupBy: ['platform'], range: 'P30D' } },
].map((widget, index) => ({ id: `w${index}`, ...widget, grid: { x: (index % 2) * 6, y: Math.floor(index / 2) * 3, w: 6, h: 3 } }));

/** Milliseconds from navigation to the mark, polled (the app's CSP refuses the evaluated predicate waitForFunction uses). */
async function markTime(page: Page, mark: string): Promise<number> {
  for (let waited = 0; waited < 60_000; waited += 20) {
    const time = await page.evaluate((name) => performance.getEntriesByName(name)[0]?.startTime, mark);
    if (time !== undefined) return time;
    await page.waitForTimeout(20);
  }
  throw new Error(`no ${mark} within 60 s`);
}

async function measure(browser: Browser, url: string, token: string, path: string, mark: string): Promise<{ mark: number; firstPaint: number }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  // Signed in as the app keeps it (web/src/api.ts), so the measurement starts at the view.
  await context.addInitScript({ content: `sessionStorage.setItem('tta.token', ${JSON.stringify(token)})` });
  const page = await context.newPage();
  await page.goto(`${url}${path}`);
  const time = await markTime(page, mark);
  const firstPaint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN);
  await context.close();
  return { mark: time, firstPaint };
}

function bundleSize(): { raw: number; gzip: number; files: number } {
  const files = readdirSync(DIST).map((name) => join(DIST, name));
  return files.reduce((total, file) => ({ raw: total.raw + statSync(file).size, gzip: total.gzip + gzipSync(readFileSync(file)).length, files: total.files + 1 }), { raw: 0, gzip: 0, files: 0 });
}

async function main(): Promise<void> {
  const dataDir = process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'bench-web-'));
  const filled = existsSync(join(dataDir, 'demo-history.truth.json'));
  const runtime = await spawnRuntime({ DATA_DIR: dataDir });
  try {
    if (!filled) {
      console.log(`filling ${dataDir} with npm run demo -- --seed 42 ...`);
      const code = await runtime.demo(['--seed', '42'], () => undefined);
      if (code !== 0) throw new Error(`the demo exited with ${code}`);
    }
    const made = await fetch(`${runtime.url}/v1/dashboards`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Six widgets', sharedWith: [], widgets: SIX_WIDGETS }),
    });
    if (made.status !== 201) throw new Error(`the dashboard was refused: ${made.status} ${await made.text()}`);
    const { id } = (await made.json()) as { id: string };
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
    const overview: { mark: number; firstPaint: number }[] = [];
    const dashboard: { mark: number; firstPaint: number }[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      overview.push(await measure(browser, runtime.url, runtime.token, '/', 'overview-interactive'));
      dashboard.push(await measure(browser, runtime.url, runtime.token, `/dashboards/${id}`, 'dashboard-drawn'));
      console.log(`run ${run + 1}: overview interactive ${overview[run]!.mark.toFixed(0)} ms (first paint ${overview[run]!.firstPaint.toFixed(0)}), six widgets drawn ${dashboard[run]!.mark.toFixed(0)} ms`);
    }
    await browser.close();
    const size = bundleSize();
    const ms = (values: number[]) => `median ${median(values).toFixed(0)} ms (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})`;
    console.log(`overview interactive: ${ms(overview.map((run) => run.mark))}; first paint ${ms(overview.map((run) => run.firstPaint))}`);
    console.log(`six-widget dashboard drawn: ${ms(dashboard.map((run) => run.mark))}`);
    console.log(`bundle: ${size.files} files, ${(size.raw / 1024).toFixed(0)} KiB, ${(size.gzip / 1024).toFixed(0)} KiB gzipped`);
  } finally {
    await runtime.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
