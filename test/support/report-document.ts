import type { ReportDocument } from '../../functions/domain/reports/document';

/**
 * A report with every kind of block and cell, for the renderers' tests: numbers to find again in
 * the output, a withheld cell of each reason, a chart with a gap, and a period across London's
 * change to summer time (a 23-hour day).
 */
export const SAMPLE_REPORT: ReportDocument = {
  kind: 'outcomes',
  title: 'Therapeutic outcomes, March 2027',
  period: { from: '2027-03-01T00:00:00.000Z', to: '2027-03-31T23:00:00.000Z', timeZone: 'Europe/London', label: '2027-03' },
  generatedAt: '2027-04-01T07:00:00.000Z',
  dataThrough: '2027-04-01T06:58:00.000Z',
  k: 10,
  sections: [
    {
      id: 'assessments',
      heading: 'Assessment change',
      blocks: [
        { kind: 'paragraph', text: 'Reliable improvement: PHQ-9 down at least 6 points or 50 %, GAD-7 down at least 4, by week 8.' },
        {
          kind: 'table',
          caption: 'Reliable improvement by instrument',
          columns: [
            { label: 'Instrument', format: 'text' },
            { label: 'Users', format: 'integer', unit: 'people' },
            { label: 'Mean change', format: 'decimal', unit: 'points' },
            { label: 'Reliably improved', format: 'percent' },
            { label: 'First assessed', format: 'date' },
          ],
          rows: [
            ['PHQ-9', 1234, -4.56, 0.4321, '2027-03-01T09:00:00.000Z'],
            ['GAD-7', 987, -3.21, 0.3876, '2027-03-02T09:00:00.000Z'],
            ['WHO-5', { withheld: 'k_anonymity' }, { withheld: 'k_anonymity' }, { withheld: 'k_anonymity' }, null],
          ],
        },
      ],
    },
    {
      id: 'engagement',
      heading: 'Engagement',
      blocks: [
        {
          kind: 'chart',
          title: 'Sessions per day',
          description: 'Sessions per day in March 2027, rising from about 800 to about 950; 27 March is withheld.',
          type: 'line',
          unit: 'sessions',
          series: [
            {
              name: 'sessions',
              points: [
                { at: '2027-03-25T00:00:00.000Z', value: 812 },
                { at: '2027-03-26T00:00:00.000Z', value: 845 },
                { at: '2027-03-27T00:00:00.000Z', value: null },
                { at: '2027-03-28T00:00:00.000Z', value: 901 },
                { at: '2027-03-28T23:00:00.000Z', value: 948 },
              ],
            },
          ],
        },
        {
          kind: 'table',
          caption: 'Trend of sessions per day',
          columns: [
            { label: 'Metric', format: 'text' },
            { label: 'Slope', format: 'decimal', unit: 'sessions a day' },
            { label: 'Change on the previous period', format: 'percent' },
            { label: 'Latest', format: 'datetime' },
          ],
          rows: [
            ['sessions', 4.25, 0.125, '2027-03-31T21:30:00.000Z'],
            ['crisis signals', { withheld: 'not_enough_data' }, { withheld: 'k_anonymity' }, '2027-03-31T20:00:00.000Z'],
          ],
        },
      ],
    },
  ],
};
