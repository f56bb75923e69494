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

/** A structure element as a reader's assistive technology gets it: its role, alternative text, own text and children. */
interface StructureNode {
  readonly role: string;
  readonly alt?: string;
  readonly text: string;
  readonly children: readonly StructureNode[];
}

interface PageStructure {
  readonly tree: StructureNode;
  /** The text drawn in each kind of marked content outside any structure element (`Artifact`), and text drawn unmarked. */
  readonly artifacts: string;
  readonly unmarked: string;
}

/** Each page's structure tree with the text of the marked content each element owns, read as pdf.js reads it for a screen reader. */
async function structureOf(raw: Buffer): Promise<PageStructure[]> {
  const proxy = await getDocumentProxy(new Uint8Array(raw));
  const pages: PageStructure[] = [];
  for (let number = 1; number <= proxy.numPages; number++) {
    const page = await proxy.getPage(number);
    const { items } = await page.getTextContent({ includeMarkedContent: true });
    const owned = new Map<string, string>();
    const open: string[] = [];
    let artifacts = '';
    let unmarked = '';
    for (const item of items) {
      if ('type' in item) {
        if (item.type === 'endMarkedContent') open.pop();
        else open.push(item.id ?? (item as { tag?: string }).tag ?? '');
      } else {
        // pdf.js ends a wrapped line without a space: the end of line stands for one.
        const text = item.hasEOL ? `${item.str} ` : item.str;
        const inside = open.at(-1);
        if (inside === undefined) unmarked += text;
        else if (inside === 'Artifact') artifacts += text;
        else owned.set(inside, (owned.get(inside) ?? '') + text);
      }
    }
    type RawNode = { role?: string; alt?: string; type?: string; id?: string; children?: RawNode[] };
    const build = (node: RawNode): StructureNode => {
      const children = node.children ?? [];
      return {
        role: node.role ?? '',
        ...(node.alt === undefined ? {} : { alt: node.alt }),
        text: children
          .map((child) => (child.type === 'content' ? (owned.get(child.id ?? '') ?? '') : ''))
          .join('')
          .replace(/\s+/g, ' ')
          .trim(),
        children: children.filter((child) => child.type !== 'content').map(build),
      };
    };
    pages.push({ tree: build(await page.getStructTree()), artifacts, unmarked });
  }
  return pages;
}

const allNodes = (node: StructureNode): StructureNode[] => [node, ...node.children.flatMap(allNodes)];
const withRole = (pages: readonly PageStructure[], role: string) => pages.flatMap((page) => allNodes(page.tree)).filter((node) => node.role === role);

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
    const { raw, pages } = await renderPdf(long);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const tablePages = pages.filter((page) => /^row \d+ /m.test(page));
    expect(tablePages.length).toBeGreaterThanOrEqual(3);
    for (const page of tablePages) expect(page).toMatch(/^Row Count \(events\)$/m);
    // Each page's part of the table is a tagged table of its own, its header row repeated as header cells.
    const tagged = withRole(await structureOf(raw), 'Table');
    expect(tagged.length).toBe(tablePages.length);
    for (const table of tagged) expect(table.children[0]?.children.map((cell) => [cell.role, cell.text])).toEqual([['TH', 'Row'], ['TH', 'Count (events)']]);
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

  describe('as a tagged PDF', () => {
    let structure: PageStructure[];

    beforeAll(async () => {
      structure = await structureOf(sample.raw);
    });

    it('declares itself tagged and hangs every element under one Document', async () => {
      const proxy = await getDocumentProxy(new Uint8Array(sample.raw));
      expect(await proxy.getMarkInfo()).toMatchObject({ Marked: true });
      expect(structure[0]?.tree.children.map((node) => node.role)).toEqual(['Document']);
    });

    it('tags the title, the sections and each table\'s and chart\'s caption as headings of three levels, in reading order', () => {
      const captions = SAMPLE_REPORT.sections.flatMap((section) => section.blocks).flatMap((block) => (block.kind === 'table' ? [block.caption] : block.kind === 'chart' ? [block.title] : []));
      expect(withRole(structure, 'H1').map((node) => node.text)).toEqual([SAMPLE_REPORT.title]);
      expect(withRole(structure, 'H2').map((node) => node.text)).toEqual(['Contents', ...SAMPLE_REPORT.sections.map((section) => section.heading)]);
      expect(withRole(structure, 'H3').map((node) => node.text)).toEqual(captions);
    });

    it('tags tables by rows, with column headers, each row named by a header cell, and withheld cells as their reason', () => {
      const zone = SAMPLE_REPORT.period.timeZone;
      const tagged = withRole(structure, 'Table');
      expect(tagged).toHaveLength(tables(SAMPLE_REPORT).length);
      tables(SAMPLE_REPORT).forEach((table, index) => {
        const [header, ...rows] = tagged[index]!.children;
        expect(header!.children.map((cell) => [cell.role, cell.text])).toEqual(
          table.columns.map((column) => ['TH', column.unit === undefined ? column.label : `${column.label} (${column.unit})`]),
        );
        expect(rows.map((row) => row.children.map((cell) => [cell.role, cell.text]))).toEqual(
          table.rows.map((row) => row.map((cell, column) => [column === 0 ? 'TH' : 'TD', cellText(cell, table.columns[column]?.format ?? 'text', zone)])),
        );
      });
      expect(withRole(structure, 'TD').map((cell) => cell.text)).toContain('suppressed');
    });

    it('tags each chart as a figure whose alternative text is its description, the contents as a list of entries, prose as paragraphs', () => {
      const chart = SAMPLE_REPORT.sections.flatMap((section) => section.blocks).find((block) => block.kind === 'chart');
      expect(withRole(structure, 'Figure').map((node) => node.alt)).toEqual([chart?.kind === 'chart' ? chart.description : 'no chart']);
      expect(withRole(structure, 'TOCI').map((entry) => entry.children.map((part) => part.text))).toEqual([
        ['Assessment change', '1'],
        ['Engagement', '1'],
      ]);
      expect(withRole(structure, 'P').map((node) => node.text)).toContain(withholdingNote(SAMPLE_REPORT.k));
    });

    it('marks the running head and footer as artifacts, and leaves no text outside marked content', () => {
      const [page] = structure;
      expect(page?.artifacts).toContain('Page 1 of 1');
      expect(page?.artifacts).toContain(`k = ${SAMPLE_REPORT.k}`);
      expect(page?.unmarked).toBe('');
      expect(allNodes(page!.tree).map((node) => node.text).join('\n')).not.toContain('Page 1 of 1');
    });
  });

  it('writes signs Helvetica lacks in plain spelling rather than as another glyph', async () => {
    expect(helveticaText('PHQ-9 ≥ 10 − 2 → ok ✓, café – 5 %')).toBe('PHQ-9 >= 10 - 2 -> ok ?, café – 5 %');
    const { pages } = await renderPdf({ ...SAMPLE_REPORT, sections: [{ id: 'signs', heading: 'Signs', blocks: [{ kind: 'paragraph', text: 'Scores ≥ 10 and ≤ 4' }] }] });
    expect(pages.join('\n')).toContain('Scores >= 10 and <= 4');
  });
});
