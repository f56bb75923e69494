/*
 * The PDF report (issue 17): any ReportDocument drawn with @react-pdf/renderer in the built-in
 * Helvetica, so rendering never fetches a font. Text stays text (tables, chart labels, notes) and
 * charts are vector paths, so the file can be searched, copied from and read aloud.
 *
 * The file is a tagged PDF: react-pdf 4.9 writes no structure tree of its own, so a patch of it
 * (patches/, applied by `npm ci`) hands pdfkit the `tagged` option and turns a node's `structure`
 * prop into a structure element, its drawing into marked content. The title is /H1, sections /H2,
 * captions /H3, paragraphs /P, the header's facts a list, the contents /TOC, tables /Table with
 * header cells, charts /Figure with their description as alternative text; running heads, rules
 * and backgrounds are artifacts. Besides: the document's title (shown in the viewer's title bar),
 * language, author, subject and keywords; an outline (bookmarks) entry per section, opened beside
 * the document; a contents list with page numbers that links to each section.
 */
import { createElement as h, type ReactElement, type ReactNode } from 'react';
import type { Styles } from '@react-pdf/renderer';
import {
  cellText,
  isWithheld,
  withholdingNote,
  type CellFormat,
  type ReportBlock,
  type ReportCell,
  type ReportDocument,
  type ReportSection,
  type ReportTable,
} from '../../domain/reports/document';
import type { ReportRenderer } from '../../ports/reports';
import { withHelveticaText } from './helvetica-text';
import { chartDrawing } from './pdf-chart';
import { tagged } from './pdf-structure';

/*
 * react-pdf is loaded by a dynamic import: the local runtime runs under tsx, which compiles a
 * `require`d ES module to CommonJS and then cannot resolve @react-pdf/hyphenate's import-only
 * subpaths; import() loads it as the ES module it is. esbuild still bundles it for Lambda, but
 * pdfkit 0.20 loads its standard fonts with createRequire('#standard-fonts/Helvetica'), which no
 * bundler follows: a bundle needs pdfkit's js/standard-fonts folder beside it and a package.json
 * there mapping `"imports": { "#standard-fonts/*": "./standard-fonts/*.cjs" }`.
 */
type ReactPdf = typeof import('@react-pdf/renderer');

const A4_WIDTH = 595.28;
const MARGIN = 44;
const CONTENT_WIDTH = A4_WIDTH - 2 * MARGIN;
const NUMERIC: ReadonlySet<CellFormat> = new Set(['integer', 'decimal', 'percent']);

/*
 * lineHeight is set on prose only, never on the page or a view: react-pdf 4.9 draws nothing for a
 * `render` text (the section headings) that has or inherits a lineHeight.
 */
const PROSE = { lineHeight: 1.35 };

const styles = {
  page: { paddingTop: 22, paddingBottom: 22, paddingHorizontal: MARGIN, fontFamily: 'Helvetica', fontSize: 9.5, color: '#1a1a1a' },
  chrome: { flexDirection: 'row', justifyContent: 'space-between', fontSize: 7.5, color: '#555555' },
  flow: { flexGrow: 1, paddingTop: 18, paddingBottom: 14 },
  title: { fontFamily: 'Helvetica-Bold', fontSize: 18, marginBottom: 8 },
  facts: { marginBottom: 8 },
  fact: { flexDirection: 'row' },
  factName: { width: 90, color: '#555555' },
  note: { ...PROSE, fontSize: 8.5, color: '#333333', marginBottom: 14, padding: 6, backgroundColor: '#f3f3f3' },
  contents: { marginBottom: 16 },
  contentsHeading: { fontFamily: 'Helvetica-Bold', fontSize: 12, marginBottom: 4 },
  contentsRow: { flexDirection: 'row', justifyContent: 'space-between', color: '#0b4f8a', textDecoration: 'none', marginBottom: 2 },
  contentsPage: { width: 40, textAlign: 'right' },
  sectionHeading: { fontFamily: 'Helvetica-Bold', fontSize: 14, marginTop: 10, marginBottom: 6 },
  paragraph: { ...PROSE, marginBottom: 8 },
  caption: { fontFamily: 'Helvetica-Bold', fontSize: 10, marginTop: 4, marginBottom: 3 },
  table: { marginBottom: 12, borderTopWidth: 0.75, borderTopColor: '#333333' },
  headerRow: { flexDirection: 'row', backgroundColor: '#e8e8e8', borderBottomWidth: 0.75, borderBottomColor: '#333333' },
  row: { flexDirection: 'row', borderBottomWidth: 0.25, borderBottomColor: '#cccccc' },
  stripedRow: { backgroundColor: '#f7f7f7' },
  headerCell: { fontFamily: 'Helvetica-Bold', fontSize: 8, paddingVertical: 3, paddingHorizontal: 4 },
  cell: { fontSize: 8.5, paddingVertical: 2.5, paddingHorizontal: 4 },
  withheldCell: { fontFamily: 'Helvetica-Oblique', color: '#666666' },
  numeric: { textAlign: 'right' },
  chartTitle: { fontFamily: 'Helvetica-Bold', fontSize: 10, marginTop: 4, marginBottom: 2 },
  chartDescription: { ...PROSE, fontSize: 8.5, color: '#333333', marginTop: 2, marginBottom: 12 },
} satisfies Styles;

/** Where each section's heading landed: filled by the first layout, printed in the contents by the second. */
type HeadingPages = Map<string, number>;

function periodText({ period }: ReportDocument): string {
  // The period is [from, to): its last day is the one holding the instant before `to`.
  const lastDay = new Date(Date.parse(period.to) - 1).toISOString();
  return `${period.label}: ${cellText(period.from, 'date', period.timeZone)} to ${cellText(lastDay, 'date', period.timeZone)}`;
}

function header({ Text, View }: ReactPdf, document: ReportDocument): ReactElement {
  const zone = document.period.timeZone;
  const facts: [string, string][] = [
    ['Period', `${periodText(document)} (${zone})`],
    ['Generated', `${cellText(document.generatedAt, 'datetime', zone)} (${zone})`],
    ['Data through', document.dataThrough === null ? 'no data yet' : `${cellText(document.dataThrough, 'datetime', zone)} (${zone})`],
    ['Privacy', `groups of fewer than ${document.k} people are suppressed (k = ${document.k})`],
  ];
  return h(
    View,
    null,
    h(Text, { style: styles.title, ...tagged('H1') }, document.title),
    h(
      View,
      { style: styles.facts, ...tagged('L') },
      facts.map(([name, value]) =>
        h(View, { key: name, style: styles.fact, ...tagged('LI') }, h(Text, { style: styles.factName, ...tagged('Lbl') }, name), h(Text, { ...tagged('LBody') }, value)),
      ),
    ),
    h(Text, { style: styles.note, ...tagged('P') }, withholdingNote(document.k)),
  );
}

/**
 * One link per section with its page. The first layout cannot know the pages yet and prints a
 * placeholder of the same width, so the second layout breaks pages where the first did.
 */
function contents({ Link, Text, View }: ReactPdf, sections: readonly ReportSection[], pages: HeadingPages | null): ReactElement {
  return h(
    View,
    null,
    h(Text, { style: styles.contentsHeading, ...tagged('H2') }, 'Contents'),
    h(
      View,
      { style: styles.contents, ...tagged('TOC') },
      sections.map((section) =>
        h(
          Link,
          { key: section.id, src: `#${section.id}`, style: styles.contentsRow, ...tagged('TOCI') },
          h(Text, { ...tagged('P') }, section.heading),
          h(Text, { style: styles.contentsPage, ...tagged('P') }, pages === null ? '000' : String(pages.get(section.id) ?? '')),
        ),
      ),
    ),
  );
}

/** Each column's share of the width: the first names the row, and text needs more room than numbers. */
const columnFlex = (format: CellFormat, index: number) => (index === 0 ? 2.2 : NUMERIC.has(format) ? 1 : 1.4);

function tableBlock({ Text, View }: ReactPdf, table: ReportTable, timeZone: string): ReactElement {
  // Styles are merged once per column rather than once per cell: a month's tables hold thousands of cells.
  const headerStyles = table.columns.map((column, index) => ({
    ...styles.headerCell,
    flex: columnFlex(column.format, index),
    ...(NUMERIC.has(column.format) ? styles.numeric : {}),
  }));
  const cellStyles = table.columns.map((column, index) => ({ ...styles.cell, flex: columnFlex(column.format, index), ...(NUMERIC.has(column.format) ? styles.numeric : {}) }));
  const withheldStyles = cellStyles.map((style) => ({ ...style, ...styles.withheldCell }));
  // The first cell names its row: a header cell for the row, as the column headings are for theirs.
  const cell = (value: ReportCell, format: CellFormat, index: number) =>
    h(
      Text,
      { key: index, style: (isWithheld(value) ? withheldStyles : cellStyles)[index], ...tagged(index === 0 ? { type: 'TH', scope: 'Row' } : 'TD') },
      cellText(value, format, timeZone),
    );
  return h(
    View,
    null,
    h(Text, { style: styles.caption, minPresenceAhead: 48, ...tagged('H3') }, table.caption),
    h(
      View,
      { style: styles.table, ...tagged('Table') },
      // `fixed` inside the table repeats the header row on every page the table runs onto.
      h(
        View,
        { style: styles.headerRow, fixed: true, ...tagged('TR') },
        table.columns.map((column, index) =>
          h(
            Text,
            { key: index, style: headerStyles[index], ...tagged({ type: 'TH', scope: 'Column' }) },
            column.unit === undefined ? column.label : `${column.label} (${column.unit})`,
          ),
        ),
      ),
      table.rows.map((row, rowIndex) =>
        h(
          View,
          { key: rowIndex, style: rowIndex % 2 === 1 ? [styles.row, styles.stripedRow] : styles.row, wrap: false, ...tagged('TR') },
          table.columns.map((column, index) => cell(row[index] ?? null, column.format, index)),
        ),
      ),
    ),
  );
}

function block(lib: ReactPdf, content: ReportBlock, timeZone: string, key: number): ReactElement {
  const { Text, View } = lib;
  switch (content.kind) {
    case 'paragraph':
      return h(Text, { key, style: styles.paragraph, ...tagged('P') }, content.text);
    case 'table':
      return h(View, { key }, tableBlock(lib, content, timeZone));
    case 'chart':
      return h(
        View,
        { key, wrap: false },
        h(Text, { style: styles.chartTitle, ...tagged('H3') }, content.title),
        chartDrawing(lib, content, CONTENT_WIDTH, timeZone),
        h(Text, { style: styles.chartDescription, ...tagged('P') }, content.description),
      );
  }
}

/** react-pdf 4.9 draws an outline entry for any node, but its types declare `bookmark` on Page only. */
const outlineEntry = (title: string) => ({ bookmark: { title, fit: true } });

function section(lib: ReactPdf, content: ReportSection, timeZone: string, recordPage: (id: string, page: number) => void): ReactElement {
  const { Text, View } = lib;
  return h(
    View,
    { key: content.id },
    h(Text, {
      id: content.id,
      ...outlineEntry(content.heading),
      ...tagged('H2'),
      style: styles.sectionHeading,
      minPresenceAhead: 60,
      // Called once the heading's page is known: the contents of the next layout print it.
      render: ({ pageNumber }) => {
        recordPage(content.id, pageNumber);
        return content.heading;
      },
    }),
    content.blocks.map((item, index) => block(lib, item, timeZone, index)),
  );
}

function reportPdf(lib: ReactPdf, document: ReportDocument, sections: readonly ReactElement[], pages: HeadingPages | null) {
  const { Document, Page, Text, View } = lib;
  const zone = document.period.timeZone;
  // The running head and the footer around every page's content; a `layout` also opts the
  // document into react-pdf's newer pagination, several times faster on a month's tables.
  const pageChrome = ({ children, pageNumber, totalPages }: { children: ReactNode; pageNumber?: number; totalPages?: number }) =>
    h(
      View,
      { style: { flexGrow: 1 } },
      h(View, { style: styles.chrome, ...tagged('Artifact') }, h(Text, null, document.title), h(Text, null, periodText(document))),
      h(View, { style: styles.flow }, children),
      h(
        View,
        { style: styles.chrome, ...tagged('Artifact') },
        h(Text, null, `k = ${document.k}; generated ${cellText(document.generatedAt, 'datetime', zone)} (${zone})`),
        h(Text, null, `Page ${pageNumber ?? ''} of ${totalPages ?? ''}`),
      ),
    );
  return h(
    Document,
    {
      title: document.title,
      author: 'Therapeutic analytics',
      subject: `${document.kind} report, ${periodText(document)} (${zone})`,
      keywords: `${document.kind} report, ${document.period.label}`,
      creator: 'Therapeutic analytics reporting',
      language: 'en-GB',
      // pdfkit's default version, 1.3, predates the mark information a tagged file declares.
      pdfVersion: '1.7',
      ...{ tagged: true },
      // The report's own instant, not the clock: the same document gives the same file.
      creationDate: new Date(document.generatedAt),
      pageMode: 'useOutlines',
    },
    h(
      Page,
      { size: 'A4', style: styles.page, layout: pageChrome },
      header(lib, document),
      contents(lib, document.sections, pages),
      sections,
    ),
  );
}

export const pdfRenderer: ReportRenderer = {
  format: 'pdf',
  contentType: 'application/pdf',
  async render(original) {
    const lib = await import('@react-pdf/renderer');
    // A word split at a line end ("previ-ous") cannot be found by searching the file.
    lib.Font.registerHyphenationCallback((word) => [word]);
    const document = withHelveticaText(original);
    // react-pdf offers no page lookup, so the contents' page numbers come from a first layout;
    // both layouts share the sections' elements, built once.
    const pages: HeadingPages = new Map();
    const sections = document.sections.map((item) => section(lib, item, document.period.timeZone, (id, page) => pages.set(id, page)));
    await lib.renderToBuffer(reportPdf(lib, document, sections, null));
    return lib.renderToBuffer(reportPdf(lib, document, sections, new Map(pages)));
  },
};
