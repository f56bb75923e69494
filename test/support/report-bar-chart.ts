import type { ReportDocument } from '../../functions/domain/reports/document';
import { SAMPLE_REPORT } from './report-document';

/** The sample report with a bar chart of two series in hourly buckets, one point withheld: bars, a legend, times on x. */
export const BAR_CHART_REPORT: ReportDocument = {
  ...SAMPLE_REPORT,
  sections: [
    ...SAMPLE_REPORT.sections,
    {
      id: 'check-ins',
      heading: 'Check-ins',
      blocks: [
        {
          kind: 'chart',
          title: 'Check-ins per hour',
          description: 'Check-ins on 1 March 2027 between 09:00 and 11:00, app and web; the app at 10:00 is withheld.',
          type: 'bar',
          unit: 'check-ins',
          series: [
            { name: 'app', points: [{ at: '2027-03-01T09:00:00.000Z', value: 30 }, { at: '2027-03-01T10:00:00.000Z', value: null }] },
            { name: 'web', points: [{ at: '2027-03-01T09:00:00.000Z', value: 12.5 }, { at: '2027-03-01T10:00:00.000Z', value: 20 }] },
          ],
        },
      ],
    },
  ],
};
