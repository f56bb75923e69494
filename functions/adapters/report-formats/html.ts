import { cellText, isWithheld, withholdingNote, type CellFormat, type ReportCell, type ReportChart, type ReportColumn, type ReportDocument, type ReportSection, type ReportTable } from '../../domain/reports/document';
import { bucketTextFormat, chartGeometry, labelledBuckets, pathOf } from '../../domain/reports/chart-geometry';
import type { ReportRenderer } from '../../ports/reports';

/*
 * The report as one HTML page that needs nothing else: no script, no font, no stylesheet or image
 * from anywhere, so it opens the same from an e-mail, a disk or the object store, and a screen
 * reader gets everything a sighted reader does (each chart's numbers follow it as a table).
 */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

const NUMERIC: readonly CellFormat[] = ['integer', 'decimal', 'percent'];

/**
 * Series colours: each at least 4.5:1 on white, and told apart by more than colour (WCAG 1.4.1):
 * lines by their dashes, bars by white stripes at their own angle (none for the first series).
 */
const SERIES_STYLES = [
  { colour: '#1d4f91', dash: '', stripes: null },
  { colour: '#a3420a', dash: '8 4', stripes: 45 },
  { colour: '#2b6e34', dash: '2 3', stripes: -45 },
  { colour: '#6b3a8f', dash: '10 3 2 3', stripes: 90 },
] as const;

type SeriesStyle = (typeof SERIES_STYLES)[number];

const styleOf = (index: number): SeriesStyle => SERIES_STYLES[index % SERIES_STYLES.length] ?? SERIES_STYLES[0];

/** A bar's fill, and the pattern it needs, named after the chart so two charts' patterns never meet. */
function barFill(style: SeriesStyle, id: string, index: number): { fill: string; pattern: string } {
  if (style.stripes === null) return { fill: style.colour, pattern: '' };
  const name = `${id}-stripes-${index}`;
  return {
    fill: `url(#${name})`,
    pattern: `<pattern id="${name}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(${style.stripes})"><rect width="8" height="8" fill="${style.colour}"/><line x1="4" x2="4" y1="0" y2="8" stroke="#fff" stroke-width="2"/></pattern>`,
  };
}

const STYLE = `
:root { color: #1a1a1a; background: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { margin: 0 auto; max-width: 60rem; padding: 1rem; }
a { color: #0b57d0; }
h1 { font-size: 1.75rem; margin-bottom: 0.5rem; }
h2 { margin-top: 2.5rem; border-bottom: 2px solid #d0d0d0; }
dl.about { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dl.about dt { font-weight: 600; }
dl.about dd { margin: 0; }
.note { border-left: 4px solid #6b6b6b; padding-left: 0.75rem; }
.table-wrap { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.5rem; }
th, td { border: 1px solid #c4c4c4; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
.num { text-align: right; }
td.withheld { background: #ececec; color: #333; font-style: italic; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
figure { margin: 1.5rem 0; }
figcaption { font-weight: 600; }
svg { max-width: 100%; height: auto; }
.legend { list-style: none; padding: 0; display: flex; gap: 1.5rem; }
details summary { cursor: pointer; }
`;

/** A header cell's text: the column's label, with its unit when it has one. */
const columnHeading = (column: ReportColumn) => escapeHtml(column.unit === undefined ? column.label : `${column.label} (${column.unit})`);

type NullCell = (alignment: string) => string;
/** A table's cell that does not apply: a dash to the eye, words to a screen reader. */
const notApplicable: NullCell = (alignment) => `<td${alignment}><span aria-hidden="true">–</span><span class="visually-hidden">does not apply</span></td>`;
/** A chart's null point is withheld or missing, which is not "does not apply": said in the withheld cells' look. */
const noFigure: NullCell = () => '<td class="num withheld">withheld or missing</td>';

function cellHtml(cell: ReportCell, column: ReportColumn, timeZone: string, header: boolean, nullCell: NullCell): string {
  const alignment = NUMERIC.includes(column.format) ? ' class="num"' : '';
  if (header) return `<th scope="row"${alignment}>${escapeHtml(cellText(cell, column.format, timeZone))}</th>`;
  if (isWithheld(cell)) {
    // Said in words, set apart by its look, and pointing at the note that says what it means.
    return `<td class="num withheld"><a href="#withholding-note">${escapeHtml(cellText(cell, column.format, timeZone))}</a></td>`;
  }
  if (cell === null) return nullCell(alignment);
  return `<td${alignment}>${escapeHtml(cellText(cell, column.format, timeZone))}</td>`;
}

function tableHtml(table: Pick<ReportTable, 'caption' | 'columns' | 'rows'>, timeZone: string, id: string, nullCell = notApplicable): string {
  const head = table.columns.map((column) => `<th scope="col"${NUMERIC.includes(column.format) ? ' class="num"' : ''}>${columnHeading(column)}</th>`).join('');
  const body = table.rows
    .map((row) => `<tr>${table.columns.map((column, index) => cellHtml(row[index] ?? null, column, timeZone, index === 0, nullCell)).join('')}</tr>`)
    .join('\n');
  // A wide table scrolls on its own; keyboard users reach its overflow because the region takes focus.
  return `<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table>
<caption id="${id}">${escapeHtml(table.caption)}</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>`;
}

const WIDTH = 640;
const HEIGHT = 320;
// Room on the right for half of the last date label, which sits at the middle of the last bucket.
const BOX = { left: 72, top: 16, width: WIDTH - 72 - 40, height: HEIGHT - 16 - 72 };
/** Room a date label (10 characters at 13px) or a date and time (16) needs on x, so labels never overlap. */
const X_LABEL_ROOM = { date: 90, datetime: 130 } as const;

const tickText = (value: number) => value.toLocaleString('en-GB', { maximumFractionDigits: 2 });

function chartSvg(chart: ReportChart, timeZone: string, id: string): string {
  const geometry = chartGeometry(chart, BOX);
  const bucketFormat = bucketTextFormat(geometry.buckets.map((bucket) => bucket.at));
  const bottom = BOX.top + BOX.height;
  const yTicks = geometry.yTicks
    .map((tick) => `<line x1="${BOX.left}" x2="${BOX.left + BOX.width}" y1="${tick.y}" y2="${tick.y}" stroke="#d9d9d9"/><text x="${BOX.left - 8}" y="${tick.y}" text-anchor="end" dominant-baseline="middle">${escapeHtml(tickText(tick.value))}</text>`)
    .join('');
  const xTicks = labelledBuckets(geometry.buckets.length, Math.floor(BOX.width / X_LABEL_ROOM[bucketFormat]))
    .map((index) => {
      const bucket = geometry.buckets[index];
      return bucket === undefined ? '' : `<line x1="${bucket.x}" x2="${bucket.x}" y1="${bottom}" y2="${bottom + 5}" stroke="#333"/><text x="${bucket.x}" y="${bottom + 20}" text-anchor="middle">${escapeHtml(cellText(bucket.at, bucketFormat, timeZone))}</text>`;
    })
    .join('');
  const marks = geometry.series
    .map((series, index) => {
      const style = styleOf(index);
      if (chart.type === 'bar') {
        const { fill, pattern } = barFill(style, id, index);
        return pattern + series.bars.map((bar) => `<rect x="${bar.x}" y="${bar.y}" width="${bar.width}" height="${bar.height}" fill="${fill}"/>`).join('');
      }
      const dash = style.dash === '' ? '' : ` stroke-dasharray="${style.dash}"`;
      const lines = series.segments.map((segment) => `<path d="${pathOf(segment)}" fill="none" stroke="${style.colour}" stroke-width="2.5"${dash}/>`).join('');
      // Dots show where the values are, and a value alone between two gaps, which has no line.
      const dots = series.segments.flat().map((point) => `<circle cx="${point.x}" cy="${point.y}" r="3.5" fill="${style.colour}"/>`).join('');
      return lines + dots;
    })
    .join('');
  return `<svg role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-size="13" fill="#333">
<title id="${id}-title">${escapeHtml(chart.title)}</title>
<desc id="${id}-desc">${escapeHtml(chart.description)}</desc>
${yTicks}
<line x1="${BOX.left}" x2="${BOX.left + BOX.width}" y1="${geometry.baseline}" y2="${geometry.baseline}" stroke="#333"/>
<line x1="${BOX.left}" x2="${BOX.left}" y1="${BOX.top}" y2="${bottom}" stroke="#333"/>
${xTicks}
${marks}
<text x="${BOX.left + BOX.width / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeHtml(`${bucketFormat === 'date' ? 'Date' : 'Time'} (${timeZone})`)}</text>
<text transform="translate(16 ${BOX.top + BOX.height / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(chart.unit)}</text>
</svg>`;
}

function chartHtml(chart: ReportChart, timeZone: string, id: string): string {
  const instants = [...new Set(chart.series.flatMap((series) => series.points.map((point) => point.at)))].sort((a, b) => Date.parse(a) - Date.parse(b));
  const bucketFormat = bucketTextFormat(instants);
  const whole = chart.series.every((series) => series.points.every((point) => point.value === null || Number.isInteger(point.value)));
  const columns: ReportColumn[] = [{ label: bucketFormat === 'date' ? 'Date' : 'Time', format: bucketFormat }, ...chart.series.map((series) => ({ label: series.name, format: whole ? ('integer' as const) : ('decimal' as const) }))];
  const rows = instants.map((at) => [at, ...chart.series.map((series) => series.points.find((point) => point.at === at)?.value ?? null)]);
  const legend =
    chart.series.length < 2
      ? ''
      : `<ul class="legend" aria-hidden="true">${chart.series
          .map((series, index) => {
            const style = styleOf(index);
            const swatch = barFill(style, `${id}-key`, index);
            const key =
              chart.type === 'bar'
                ? `<svg width="16" height="16" viewBox="0 0 16 16">${swatch.pattern}<rect width="16" height="16" fill="${swatch.fill}"/></svg>`
                : `<svg width="28" height="10" viewBox="0 0 28 10"><line x1="0" x2="28" y1="5" y2="5" stroke="${style.colour}" stroke-width="3"${style.dash === '' ? '' : ` stroke-dasharray="${style.dash}"`}/></svg>`;
            return `<li>${key} ${escapeHtml(series.name)}</li>`;
          })
          .join('')}</ul>`;
  return `<figure aria-labelledby="${id}-caption">
<figcaption id="${id}-caption">${escapeHtml(chart.title)}</figcaption>
${chartSvg(chart, timeZone, id)}
${legend}
<details>
<summary>The chart's figures as a table</summary>
${tableHtml({ caption: `${chart.title} (${chart.unit})`, columns, rows }, timeZone, `${id}-data`, noFigure)}
</details>
</figure>`;
}

function sectionHtml(section: ReportSection, sectionIndex: number, timeZone: string): string {
  // Section ids are letters, digits and dashes: ids of this page's own parts hold `_`, so none can clash.
  const blocks = section.blocks.map((block, blockIndex) => {
    const id = `_block-${sectionIndex}-${blockIndex}`;
    if (block.kind === 'paragraph') return `<p>${escapeHtml(block.text)}</p>`;
    if (block.kind === 'table') return tableHtml(block, timeZone, id);
    return chartHtml(block, timeZone, id);
  });
  return `<section aria-labelledby="${escapeHtml(section.id)}">
<h2 id="${escapeHtml(section.id)}">${escapeHtml(section.heading)}</h2>
${blocks.join('\n')}
</section>`;
}

const timeHtml = (iso: string, format: 'date' | 'datetime', timeZone: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(cellText(iso, format, timeZone))}</time>`;

export function reportHtml(document: ReportDocument): string {
  const { period } = document;
  const zone = period.timeZone;
  // The period is [from, to): its last day is the one holding the instant just before `to`.
  const lastDay = new Date(Date.parse(period.to) - 1).toISOString();
  const contents = document.sections.map((section) => `<li><a href="#${escapeHtml(section.id)}">${escapeHtml(section.heading)}</a></li>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${document.title} (${period.label})`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(document.title)}</h1>
<dl class="about">
<dt>Period</dt><dd>${timeHtml(period.from, 'date', zone)} to ${timeHtml(lastDay, 'date', zone)} (${escapeHtml(period.label)})</dd>
<dt>Time zone</dt><dd>${escapeHtml(zone)}: every date and time in this report is in it</dd>
<dt>Generated</dt><dd>${timeHtml(document.generatedAt, 'datetime', zone)}</dd>
<dt>Data through</dt><dd>${document.dataThrough === null ? 'no data yet' : timeHtml(document.dataThrough, 'datetime', zone)}</dd>
<dt>Smallest group shown</dt><dd>k = ${document.k} people</dd>
</dl>
<p class="note" id="withholding-note">${escapeHtml(withholdingNote(document.k))}</p>
</header>
<nav aria-labelledby="_contents">
<h2 id="_contents">Contents</h2>
<ol>${contents}</ol>
</nav>
${document.sections.map((section, index) => sectionHtml(section, index, zone)).join('\n')}
</main>
</body>
</html>
`;
}

export const htmlRenderer: ReportRenderer = {
  format: 'html',
  contentType: 'text/html; charset=utf-8',
  render: async (document) => Buffer.from(reportHtml(document), 'utf8'),
};
