import { source as AXE_SOURCE } from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describeWithServices } from '../support/services';
import { htmlRenderer } from '../../functions/adapters/report-formats/html';
import type { ReportChart, ReportDocument } from '../../functions/domain/reports/document';
import { BAR_CHART_REPORT } from '../support/report-bar-chart';
import { SAMPLE_REPORT } from '../support/report-document';

/*
 * Opens every <details> in the page. The project has no DOM library: once anything imports react
 * (the PDF renderer does), @types/react declares Element and its kin as empty interfaces, so the
 * one DOM method called here is named in a type of its own.
 */
const openAll = (details: unknown[]) => details.forEach((each) => (each as { setAttribute(name: string, value: string): void }).setAttribute('open', ''));

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** axe's findings in words a failing test can print: the rule, how bad, and where. */
const described = (violations: readonly AxeViolation[]) =>
  violations.map((violation) => `${violation.id} (${violation.impact ?? 'no impact'}): ${violation.help}\n${violation.nodes.map((node) => `  at ${JSON.stringify(node.target)}: ${node.failureSummary ?? ''}`).join('\n')}`).join('\n\n');

async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  // A string, because the test's TypeScript has no DOM types: it runs in the page, where axe now is.
  const { violations } = await page.evaluate<{ violations: AxeViolation[] }>(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })`);
  return violations;
}

/**
 * The HTML report as a reader's browser shows it: Debian's chromium, offline (any request at all
 * is refused and recorded, since the page must need nothing but itself), checked by axe-core
 * against WCAG 2.1 AA and its best practices, with the charts' data tables shown and hidden.
 */
describeWithServices(
  [],
  'the HTML report in a browser',
  () => {
    let browser: Browser;
    let page: Page;
    const requests: string[] = [];
    const problems: string[] = [];

    async function opened(report: ReportDocument): Promise<Page> {
      const tab = await browser.newPage();
      await tab.route('**/*', (route) => {
        requests.push(route.request().url());
        return route.abort();
      });
      tab.on('pageerror', (error) => problems.push(error.message));
      tab.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await tab.setContent((await htmlRenderer.render(report)).toString('utf8'));
      return tab;
    }

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
      page = await opened(SAMPLE_REPORT);
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('breaks no WCAG 2.1 AA rule nor axe best practice, and loads nothing', async () => {
      const violations = await axeViolations(page);

      if (violations.length > 0) throw new Error(`axe found ${violations.length} violations:\n${described(violations)}`);
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    }, 60_000);

    it('breaks none with every chart data table open either', async () => {
      await page.locator('details').evaluateAll(openAll);

      const violations = await axeViolations(page);

      if (violations.length > 0) throw new Error(`axe found ${violations.length} violations:\n${described(violations)}`);
      expect(await page.getByRole('table', { name: 'Sessions per day (sessions)' }).getByRole('cell', { name: '948' }).isVisible()).toBe(true);
    }, 60_000);

    it('breaks none with a bar chart of several series, its legend and its table open', async () => {
      const bars = await opened(BAR_CHART_REPORT);
      await bars.locator('details').evaluateAll(openAll);

      const violations = await axeViolations(bars);

      if (violations.length > 0) throw new Error(`axe found ${violations.length} violations:\n${described(violations)}`);
      expect(await bars.getByRole('img', { name: 'Check-ins per hour' }).count()).toBe(1);
      expect(requests).toEqual([]);
    }, 60_000);

    it('names the chart by its title and description and links every section from the contents', async () => {
      const chart = SAMPLE_REPORT.sections.flatMap((section) => section.blocks).find((block): block is ReportChart => block.kind === 'chart');

      expect(await page.getByRole('img', { name: `${chart?.title} ${chart?.description}`, exact: true }).count()).toBe(1);
      for (const section of SAMPLE_REPORT.sections) {
        await page.getByRole('navigation').getByRole('link', { name: section.heading }).click();
        expect(new URL(page.url()).hash).toBe(`#${section.id}`);
        expect(await page.getByRole('heading', { level: 2, name: section.heading }).isVisible()).toBe(true);
      }
    }, 60_000);
  },
  { commands: ['chromium'] },
);
