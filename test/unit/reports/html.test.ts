import { htmlRenderer } from '../../../functions/adapters/report-formats/html';
import type { ReportDocument } from '../../../functions/domain/reports/document';
import { BAR_CHART_REPORT } from '../../support/report-bar-chart';
import { SAMPLE_REPORT } from '../../support/report-document';

const html = async (document: ReportDocument) => (await htmlRenderer.render(document)).toString('utf8');

/** The cells of the table row whose header cell says `name`, as their markup. */
function rowCells(page: string, name: string): string[] {
  const row = [...page.matchAll(/<tr>(.*?)<\/tr>/g)].map((match) => match[1] ?? '').find((cells) => cells.startsWith(`<th scope="row">${name}</th>`));
  return [...(row ?? '').matchAll(/<td[^>]*>.*?<\/td>/g)].map((match) => match[0]);
}

const HOSTILE = '<script>alert("x")</script> & <b>bold</b>';

describe('the HTML report renderer', () => {
  it('writes the table figures in their column formats, right-aligned', async () => {
    const page = await html(SAMPLE_REPORT);

    expect(htmlRenderer.contentType).toBe('text/html; charset=utf-8');
    expect(rowCells(page, 'PHQ-9')).toEqual(['<td class="num">1,234</td>', '<td class="num">-4.56</td>', '<td class="num">43.2 %</td>', '<td>2027-03-01</td>']);
    expect(rowCells(page, 'sessions')).toEqual(['<td class="num">4.25</td>', '<td class="num">12.5 %</td>', '<td>2027-03-31 22:30</td>']);
    expect(page).toContain('<th scope="col" class="num">Users (people)</th>');
    expect(page).toContain('<caption id="_block-0-1">Reliable improvement by instrument</caption>');
  });

  it('shows withheld figures by their reason, set apart and linked to the note, never as 0', async () => {
    const page = await html(SAMPLE_REPORT);
    const suppressed = '<td class="num withheld"><a href="#withholding-note">suppressed</a></td>';

    expect(rowCells(page, 'WHO-5')).toEqual([suppressed, suppressed, suppressed, '<td><span aria-hidden="true">–</span><span class="visually-hidden">does not apply</span></td>']);
    expect(rowCells(page, 'crisis signals').slice(0, 2)).toEqual(['<td class="num withheld"><a href="#withholding-note">not enough data</a></td>', suppressed]);
    expect(page).toContain('id="withholding-note">&#34;suppressed&#34; marks a figure about fewer than 10 people');
    // The chart's null point is a gap in its table too.
    expect(rowCells(page, '2027-03-27')).toEqual(['<td class="num withheld">withheld or missing</td>']);
  });

  it('states the period, generation and data times in the reader\'s zone, and k', async () => {
    const page = await html(SAMPLE_REPORT);

    expect(page).toContain('<html lang="en">');
    expect(page).toContain('<title>Therapeutic outcomes, March 2027 (2027-03)</title>');
    expect(page.match(/<h1>/g)).toHaveLength(1);
    // The period ends at midnight London time on 1 April (23:00 UTC): its last day is 31 March.
    expect(page).toContain('<dt>Period</dt><dd><time datetime="2027-03-01T00:00:00.000Z">2027-03-01</time> to <time datetime="2027-03-31T22:59:59.999Z">2027-03-31</time> (2027-03)</dd>');
    expect(page).toContain('<dt>Generated</dt><dd><time datetime="2027-04-01T07:00:00.000Z">2027-04-01 08:00</time></dd>');
    expect(page).toContain('<dt>Data through</dt><dd><time datetime="2027-04-01T06:58:00.000Z">2027-04-01 07:58</time></dd>');
    expect(page).toContain('k = 10 people');
    expect(await html({ ...SAMPLE_REPORT, dataThrough: null })).toContain('<dt>Data through</dt><dd>no data yet</dd>');
  });

  it('links every section from the contents to its h2', async () => {
    const page = await html(SAMPLE_REPORT);

    expect([...page.matchAll(/<li><a href="#([^"]+)">/g)].map((match) => match[1])).toEqual(['assessments', 'engagement']);
    expect([...page.matchAll(/<h2 id="([a-z0-9-]+)">/g)].map((match) => match[1])).toEqual(['assessments', 'engagement']);
  });

  it('draws the chart as a labelled SVG with a gap for the null point and dates in the reader\'s zone', async () => {
    const page = await html(SAMPLE_REPORT);
    const svg = page.slice(page.indexOf('<svg role="img"'), page.indexOf('</svg>', page.indexOf('<svg role="img"')));

    expect(svg).toContain('aria-labelledby="_block-1-0-title _block-1-0-desc"');
    expect(svg).toContain('<title id="_block-1-0-title">Sessions per day</title>');
    expect(svg).toContain('<desc id="_block-1-0-desc">Sessions per day in March 2027, rising from about 800 to about 950; 27 March is withheld.</desc>');
    // Two runs of the line, either side of the withheld 27th: no line drawn through it, none dropped to 0.
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect([...svg.matchAll(/text-anchor="end" dominant-baseline="middle">([^<]+)</g)].map((match) => match[1])).toEqual(['800', '850', '900', '950']);
    expect([...svg.matchAll(/text-anchor="middle">(\d{4}-\d\d-\d\d)</g)].map((match) => match[1])).toEqual(['2027-03-25', '2027-03-26', '2027-03-27', '2027-03-28', '2027-03-29']);
    expect(svg).toContain('>Date (Europe/London)</text>');
    expect(svg).toContain('rotate(-90)" text-anchor="middle">sessions</text>');
    expect(rowCells(page, '2027-03-29')).toEqual(['<td class="num">948</td>']);
  });

  it('draws a bar per value, names several series in a legend, and shows hours when the buckets are hours', async () => {
    const page = await html(BAR_CHART_REPORT);
    const bars = page.slice(page.indexOf('Check-ins per hour</title>'));

    expect(bars.match(/<rect x=/g)).toHaveLength(3);
    // The second series is striped as well as coloured, in the chart and in its key.
    expect(bars.match(/fill="url\(#_block-2-0-stripes-1\)"/g)).toHaveLength(2);
    expect(bars).toContain('fill="url(#_block-2-0-key-stripes-1)"');
    expect(bars).toContain('>Time (Europe/London)</text>');
    expect(page).toContain('<ul class="legend" aria-hidden="true">');
    expect(rowCells(page, '2027-03-01 10:00')).toEqual(['<td class="num withheld">withheld or missing</td>', '<td class="num">20.00</td>']);
  });

  it('escapes every text it is given, and loads and runs nothing', async () => {
    const page = await html({
      ...SAMPLE_REPORT,
      title: HOSTILE,
      sections: [
        {
          id: 'hostile',
          heading: HOSTILE,
          blocks: [
            { kind: 'paragraph', text: HOSTILE },
            { kind: 'table', caption: HOSTILE, columns: [{ label: HOSTILE, format: 'text', unit: HOSTILE }, { label: 'Users', format: 'integer' }], rows: [[HOSTILE, 3]] },
            { kind: 'chart', title: HOSTILE, description: HOSTILE, type: 'line', unit: HOSTILE, series: [{ name: HOSTILE, points: [{ at: '2027-03-01T00:00:00.000Z', value: 1 }] }] },
          ],
        },
      ],
    });

    expect(page).not.toMatch(/<script|<b>|<link|\ssrc=|href="(?!#)|url\(|@import/i);
    expect(page).toContain('<p>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#60;b&#62;bold&#60;/b&#62;</p>');
    expect(page.match(/&#60;script&#62;/g)?.length).toBeGreaterThanOrEqual(10);
  });
});
