import { cellText, isWithheld, withholdingNote } from '../../../functions/domain/reports/document';
import { SAMPLE_REPORT } from '../../support/report-document';

describe('report cells as text', () => {
  it('shows numbers in their column format, and dates and times in the reader\'s zone', () => {
    expect(cellText(1234.4, 'integer', 'UTC')).toBe('1,234');
    expect(cellText(-4.567, 'decimal', 'UTC')).toBe('-4.57');
    expect(cellText(0.4321, 'percent', 'UTC')).toBe('43.2 %');
    expect(cellText('PHQ-9', 'text', 'UTC')).toBe('PHQ-9');
    // 23:30 UTC on the last Saturday of March is already Sunday in London's summer time.
    expect(cellText('2027-03-27T23:30:00.000Z', 'datetime', 'Europe/London')).toBe('2027-03-27 23:30');
    expect(cellText('2027-03-28T23:30:00.000Z', 'datetime', 'Europe/London')).toBe('2027-03-29 00:30');
    expect(cellText('2027-03-28T23:30:00.000Z', 'date', 'America/New_York')).toBe('2027-03-28');
  });

  it('shows a withheld figure by its reason and a missing one as a dash, never as 0', () => {
    expect(cellText({ withheld: 'k_anonymity' }, 'integer', 'UTC')).toBe('suppressed');
    expect(cellText({ withheld: 'not_enough_data' }, 'decimal', 'UTC')).toBe('not enough data');
    expect(cellText(null, 'integer', 'UTC')).toBe('–');
    expect(cellText(0, 'integer', 'UTC')).toBe('0');
    expect(withholdingNote(10)).toContain('fewer than 10 people');
  });

  it('keeps the sample report\'s rows as wide as their columns', () => {
    const tables = SAMPLE_REPORT.sections.flatMap((section) => section.blocks).flatMap((block) => (block.kind === 'table' ? [block] : []));
    expect(tables.flatMap((table) => table.rows.map((row) => row.length - table.columns.length))).toEqual([0, 0, 0, 0, 0]);
    expect(SAMPLE_REPORT.sections.flatMap((section) => section.blocks).flatMap((block) => (block.kind === 'table' ? block.rows.flat() : [])).filter(isWithheld)).toHaveLength(5);
  });
});
