import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import { helveticaText } from '../../../functions/adapters/report-formats/helvetica-text';
import { pdfRenderer } from '../../../functions/adapters/report-formats/pdf';
import { cellText, isWithheld, withholdingNote, type ReportDocument, type ReportTable } from '../../../functions/domain/reports/document';
import { SAMPLE_REPORT } from '../../support/report-document';

interface RenderedPdf {
  readonly raw: Buffer;
  readonly pages: string[];
  readonly meta: Awaited<ReturnType<typeof getMeta>>;
  readonly outline: string[];
}

async function renderPdf(document: ReportDocument): Promise<RenderedPdf> {
  const raw = await pdfRenderer.render(document);
  const proxy = await getDocumentProxy(new Uint8Array(raw));
  const { text } = await extractText(proxy, { mergePages: false });
  const meta = await getMeta(proxy);
  const outline = ((await proxy.getOutline()) ?? []).map((entry) => entry.title);
  return { raw, pages: text, meta, outline };
}

/** The extracted line a table row (or contents entry) makes: its first cell, then the rest. */
const lineWith = (text: string, start: string) => text.split('\n').find((line) => line.startsWith(`${start} `));
const tables = (document: ReportDocument) =>
  document.sections.flatMap((section) => section.blocks).flatMap((block): ReportTable[] => (block.kind === 'table' ? [block] : []));

describe('the PDF report', () => {
  let sample: RenderedPdf;
  let text: string;

  beforeAll(async () => {
    sample = await renderPdf(SAMPLE_REPORT);
    text = sample.pages.join('\n');
  });

  it('is a PDF file', () => {
    expect(pdfRenderer.format).toBe('pdf');
    expect(pdfRenderer.contentType).toBe('application/pdf');
    expect(sample.raw.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('shows every table figure as the shared cell text, in its row', () => {
    const zone = SAMPLE_REPORT.period.timeZone;
    for (const table of tables(SAMPLE_REPORT)) {
      expect(text).toContain(table.caption);
      for (const row of table.rows) {
        const expected = row.map((cell, index) => cellText(cell, table.columns[index]?.format ?? 'text', zone)).join(' ');
        expect(lineWith(text, cellText(row[0] ?? null, 'text', zone))).toBe(expected);
      }
    }
    // Spot checks against the shared formatting: grouping, two decimals, a share as a percentage.
    expect(text).toContain('PHQ-9 1,234 -4.56 43.2 % 2027-03-01');
  });

  it('shows withheld figures by their reason, never as 0, and explains them once', () => {
    expect(lineWith(text, 'WHO-5')).toBe('WHO-5 suppressed suppressed suppressed –');
    expect(lineWith(text, 'crisis signals')).toBe('crisis signals not enough data suppressed 2027-03-31 21:00');
    for (const table of tables(SAMPLE_REPORT)) {
      for (const row of table.rows.filter((cells) => cells.some(isWithheld))) {
        expect(lineWith(text, cellText(row[0] ?? null, 'text', 'UTC'))).not.toMatch(/(^|\s)0([\s.,%]|$)/);
      }
    }
    expect(text.replace(/\s+/g, ' ')).toContain(withholdingNote(SAMPLE_REPORT.k));
  });

  it('states the period, generation time, data watermark and k in the reader\'s zone', () => {
    expect(text).toContain('Therapeutic outcomes, March 2027');
    expect(text).toContain('2027-03: 2027-03-01 to 2027-03-31 (Europe/London)');
    // 07:00 UTC on 1 April is 08:00 in London's summer time.
    expect(text).toContain('Generated 2027-04-01 08:00 (Europe/London)');
    expect(text).toContain('Data through 2027-04-01 07:58 (Europe/London)');
    expect(text).toContain('k = 10');
  });

  it('numbers its pages in the footer and lists the sections with their pages', () => {
    expect(sample.pages).toHaveLength(1);
    expect(sample.pages[0]).toContain('Page 1 of 1');
    expect(text).toContain('Contents\nAssessment change 1\nEngagement 1');
    expect(lineWith(text, 'Assessment change')).toBe('Assessment change 1');
    expect(text.split('\n').filter((line) => line === 'Engagement')).toHaveLength(1);
  });

  it('carries title, language, author and subject, and a bookmark per section', () => {
    expect(sample.meta.info).toMatchObject({
      Title: 'Therapeutic outcomes, March 2027',
      Language: 'en-GB',
      Author: 'Therapeutic analytics',
      Subject: 'outcomes report, 2027-03: 2027-03-01 to 2027-03-31 (Europe/London)',
    });
    expect(sample.raw.toString('latin1')).toContain('/DisplayDocTitle true');
    expect(sample.outline).toEqual(['Assessment change', 'Engagement']);
  });

  it('draws the chart as vector paths with its unit, its description and dates in the reader\'s zone', () => {
    expect(sample.raw.toString('latin1')).not.toMatch(/\/Subtype\s*\/Image/);
    expect(text).toContain('Sessions per day');
    expect(text).toContain(SAMPLE_REPORT.sections[1]?.blocks[0]?.kind === 'chart' ? SAMPLE_REPORT.sections[1].blocks[0].description : 'no chart');
    expect(text).toMatch(/^sessions$/m);
    expect(text).toContain('date (Europe/London)');
    // The last point, 23:00 UTC on 28 March, is already 29 March in London's summer time.
    expect(text).toContain('2027-03-25 2027-03-26 2027-03-27 2027-03-28 2027-03-29');
  });

  it('repeats a long table\'s header on every page it runs onto and prints each section\'s page', async () => {
    const long: ReportDocument = {
      ...SAMPLE_REPORT,
      sections: [
        {
          id: 'long',
          heading: 'Long table',
          blocks: [
            {
              kind: 'table',
              caption: 'Many rows',
              columns: [
                { label: 'Row', format: 'text' },
                { label: 'Count', format: 'integer', unit: 'events' },
              ],
              rows: Array.from({ length: 150 }, (_, i) => [`row ${i + 1}`, 1000 + i]),
            },
          ],
        },
        { id: 'after', heading: 'After the table', blocks: [{ kind: 'paragraph', text: 'The end.' }] },
      ],
    };
    const { pages } = await renderPdf(long);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const tablePages = pages.filter((page) => /^row \d+ /m.test(page));
    expect(tablePages.length).toBeGreaterThanOrEqual(3);
    for (const page of tablePages) expect(page).toMatch(/^Row Count \(events\)$/m);
    pages.forEach((page, index) => expect(page).toContain(`Page ${index + 1} of ${pages.length}`));
    const headingPage = pages.findIndex((page) => page.split('\n').includes('After the table')) + 1;
    expect(headingPage).toBeGreaterThan(1);
    expect(pages[0]).toContain(`After the table ${headingPage}`);
  });

  it('draws bar charts of several series as vector shapes with a legend', async () => {
    const days = ['2027-03-01T00:00:00.000Z', '2027-03-02T00:00:00.000Z', '2027-03-03T00:00:00.000Z'];
    const { raw, pages } = await renderPdf({
      ...SAMPLE_REPORT,
      sections: [
        {
          id: 'bars',
          heading: 'Bars',
          blocks: [
            {
              kind: 'chart',
              title: 'Check-ins by platform',
              description: 'Check-ins per day by platform; 2 March is withheld for web.',
              type: 'bar',
              unit: 'check-ins',
              series: [
                { name: 'ios', points: days.map((at, i) => ({ at, value: [40, 0, 55][i] ?? null })) },
                { name: 'web', points: days.map((at, i) => ({ at, value: [12, null, 20][i] ?? null })) },
              ],
            },
          ],
        },
      ],
    });
    const chartText = pages.join('\n');
    expect(raw.toString('latin1')).not.toMatch(/\/Subtype\s*\/Image/);
    expect(chartText).toMatch(/^check-ins$/m);
    expect(chartText).toContain('2027-03-01 2027-03-02 2027-03-03');
    expect(chartText).toMatch(/^ios web$/m);
  });

  it('writes signs Helvetica lacks in plain spelling rather than as another glyph', async () => {
    expect(helveticaText('PHQ-9 ≥ 10 − 2 → ok ✓, café – 5 %')).toBe('PHQ-9 >= 10 - 2 -> ok ?, café – 5 %');
    const { pages } = await renderPdf({ ...SAMPLE_REPORT, sections: [{ id: 'signs', heading: 'Signs', blocks: [{ kind: 'paragraph', text: 'Scores ≥ 10 and ≤ 4' }] }] });
    expect(pages.join('\n')).toContain('Scores >= 10 and <= 4');
  });
});
