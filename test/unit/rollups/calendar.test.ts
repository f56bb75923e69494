import { calendarBounds, isoInstantInZone, resolveTimeZone, storedPieces, zoneOffsetMs } from '../../../functions/domain/rollups/calendar';

const at = (iso: string) => Date.parse(iso);
const hours = (from: number, to: number) => (to - from) / 3_600_000;
const bucketStart = (epochMs: number, unit: 'week', zone: string) => calendarBounds(epochMs, epochMs + 1, unit, zone)[0]!;
const written = (bounds: readonly number[], zone: string) => bounds.map((bound) => isoInstantInZone(bound, zone));

describe('local calendars', () => {
  it('gives Europe/London a 23-hour day when the clocks go forward and a 25-hour one when they go back', () => {
    const spring = calendarBounds(at('2026-03-29T12:00:00Z'), at('2026-03-29T12:00:01Z'), 'day', 'Europe/London');
    expect(written(spring, 'Europe/London')).toEqual(['2026-03-29T00:00:00+00:00', '2026-03-30T00:00:00+01:00']);
    expect(hours(spring[0]!, spring[1]!)).toBe(23);
    const autumn = calendarBounds(at('2026-10-25T12:00:00Z'), at('2026-10-25T12:00:01Z'), 'day', 'Europe/London');
    expect(written(autumn, 'Europe/London')).toEqual(['2026-10-25T00:00:00+01:00', '2026-10-26T00:00:00+00:00']);
    expect(hours(autumn[0]!, autumn[1]!)).toBe(25);
  });

  it('does the same in America/New_York, on its own dates', () => {
    const days = calendarBounds(at('2026-03-07T12:00:00Z'), at('2026-03-09T12:00:00Z'), 'day', 'America/New_York');
    expect(written(days, 'America/New_York')).toEqual(['2026-03-07T00:00:00-05:00', '2026-03-08T00:00:00-05:00', '2026-03-09T00:00:00-04:00', '2026-03-10T00:00:00-04:00']);
    expect(days.slice(1).map((end, i) => hours(days[i]!, end))).toEqual([24, 23, 24]);
    const november = calendarBounds(at('2026-11-01T12:00:00Z'), at('2026-11-01T12:00:01Z'), 'day', 'America/New_York');
    expect(hours(november[0]!, november[1]!)).toBe(25);
  });

  it('starts a day at 01:00 where a zone skips midnight (Sao Paulo, 2018)', () => {
    const days = calendarBounds(at('2018-11-04T12:00:00Z'), at('2018-11-04T12:00:01Z'), 'day', 'America/Sao_Paulo');
    expect(written(days, 'America/Sao_Paulo')).toEqual(['2018-11-04T01:00:00-02:00', '2018-11-05T00:00:00-02:00']);
  });

  it('leaves out a day a zone skipped (Pacific/Apia, 30 December 2011)', () => {
    const days = calendarBounds(at('2011-12-29T12:00:00Z'), at('2011-12-31T00:00:00Z'), 'day', 'Pacific/Apia');
    expect(written(days, 'Pacific/Apia').map((text) => text.slice(0, 10))).toEqual(['2011-12-29', '2011-12-31', '2012-01-01']);
  });

  it('makes months of 28, 29, 30 and 31 days, local midnight to local midnight', () => {
    const months = calendarBounds(at('2028-01-15T00:00:00Z'), at('2028-04-15T00:00:00Z'), 'month', 'UTC');
    expect(written(months, 'UTC')).toEqual(['2028-01-01T00:00:00+00:00', '2028-02-01T00:00:00+00:00', '2028-03-01T00:00:00+00:00', '2028-04-01T00:00:00+00:00', '2028-05-01T00:00:00+00:00']);
    expect(months.slice(1).map((end, i) => hours(months[i]!, end) / 24)).toEqual([31, 29, 31, 30]);
    expect(calendarBounds(at('2026-02-10T00:00:00Z'), at('2026-02-11T00:00:00Z'), 'month', 'UTC').map((b, i, all) => (i ? hours(all[i - 1]!, b) / 24 : 0))).toEqual([0, 28]);
    // March in London holds the 23-hour day: 31 days less an hour.
    const march = calendarBounds(at('2026-03-10T00:00:00Z'), at('2026-03-11T00:00:00Z'), 'month', 'Europe/London');
    expect(hours(march[0]!, march[1]!)).toBe(31 * 24 - 1);
  });

  it('makes ISO weeks, Monday to Monday, across a year boundary and in a year of 53 weeks', () => {
    // 2026-12-31 is a Thursday: ISO week 53 of 2026 runs Monday 28 December to Sunday 3 January.
    const week53 = bucketStart(at('2027-01-03T23:59:59Z'), 'week', 'UTC');
    expect(new Date(week53).toISOString()).toBe('2026-12-28T00:00:00.000Z');
    expect(new Date(bucketStart(at('2027-01-04T00:00:00Z'), 'week', 'UTC')).toISOString()).toBe('2027-01-04T00:00:00.000Z');
    const weeks = calendarBounds(at('2026-12-20T12:00:00Z'), at('2027-01-05T00:00:00Z'), 'week', 'UTC');
    expect(written(weeks, 'UTC').map((text) => text.slice(0, 10))).toEqual(['2026-12-14', '2026-12-21', '2026-12-28', '2027-01-04', '2027-01-11']);
    // A local Monday is the UTC Sunday evening in New York's west: its week starts there.
    expect(isoInstantInZone(bucketStart(at('2026-11-23T03:00:00Z'), 'week', 'America/New_York'), 'America/New_York')).toBe('2026-11-16T00:00:00-05:00');
  });

  it('splits a local bucket into the UTC days wholly inside it and the hours of the days it cuts', () => {
    // London's October 2026: from 23:00Z on 30 September (BST) to 00:00Z on 1 November (GMT).
    const [start, end] = calendarBounds(at('2026-10-10T00:00:00Z'), at('2026-10-11T00:00:00Z'), 'month', 'Europe/London') as [number, number];
    const { days, hours: cut } = storedPieces(start, end);
    expect(days.map((day) => new Date(day).toISOString().slice(0, 10))).toEqual(Array.from({ length: 31 }, (_, i) => `2026-10-${String(i + 1).padStart(2, '0')}`));
    expect(cut.map((hour) => new Date(hour).toISOString())).toEqual(['2026-09-30T23:00:00.000Z']);
    // The 23-hour day is 23 hours of one UTC day, no whole day.
    const [springStart, springEnd] = calendarBounds(at('2026-03-29T12:00:00Z'), at('2026-03-29T12:00:01Z'), 'day', 'Europe/London') as [number, number];
    expect(storedPieces(springStart, springEnd)).toEqual({ days: [], hours: Array.from({ length: 23 }, (_, i) => springStart + i * 3_600_000) });
  });

  it('knows IANA zones by the name given, its case corrected, UTC by any alias, and refuses what is no zone', () => {
    expect(['Europe/London', 'europe/london', 'Asia/Kolkata', 'US/Eastern', 'Etc/UTC', 'GMT', 'utc'].map(resolveTimeZone)).toEqual(['Europe/London', 'Europe/London', 'Asia/Kolkata', 'US/Eastern', 'UTC', 'UTC', 'UTC']);
    expect(['Nowhere/City', '+01:00', '', 'Europe/London\u0000'].map(resolveTimeZone)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('writes an instant with the offset in force then, minutes included', () => {
    expect(isoInstantInZone(at('2026-06-01T12:00:00Z'), 'Asia/Kolkata')).toBe('2026-06-01T17:30:00+05:30');
    expect(isoInstantInZone(at('2026-06-01T12:00:00Z'), 'America/St_Johns')).toBe('2026-06-01T09:30:00-02:30');
    expect(zoneOffsetMs(at('2026-01-15T00:00:00Z'), 'Australia/Adelaide')).toBe(10.5 * 3_600_000);
  });
});
