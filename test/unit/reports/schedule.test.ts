import { nextRuns, periodOf, reportScheduleSchema, type ReportPeriod } from '../../../functions/domain/reports/schedule';

const NEW_YORK = 'America/New_York';
const LONDON = 'Europe/London';
const hoursOf = ({ from, to }: { from: string; to: string }) => (Date.parse(to) - Date.parse(from)) / 3_600_000;

const valid = {
  id: 'weekly-outcomes',
  kind: 'outcomes',
  cron: '0 8 * * MON',
  timeZone: NEW_YORK,
  period: 'previous_week',
  formats: ['pdf', 'xlsx'],
  recipients: ['clinical-lead@example.org', 'analytics@example.org'],
  enabled: true,
};

/** The schema's complaints by field path, as a handler would name them. */
function problemsWith(change: Record<string, unknown>): Record<string, string> {
  const result = reportScheduleSchema.safeParse({ ...valid, ...change });
  if (result.success) return {};
  return Object.fromEntries(result.error.issues.map((issue) => [issue.path.join('.'), issue.message]));
}

const schedule = (cron: string, timeZone: string) => ({ cron, timeZone, enabled: true });

describe('report schedule validation', () => {
  it('takes the DESIGN example and spells a time zone the way Intl and croner need it', () => {
    expect(reportScheduleSchema.parse(valid)).toEqual(valid);
    expect(reportScheduleSchema.parse({ ...valid, timeZone: 'america/new_york' }).timeZone).toBe(NEW_YORK);
    expect(reportScheduleSchema.parse({ ...valid, recipients: [] }).recipients).toEqual([]);
  });

  it('names the cron field, with what is wrong with it', () => {
    expect(problemsWith({ cron: '61 8 * * *' })).toEqual({ cron: expect.stringContaining('Invalid value for minute: 61') as string });
    expect(problemsWith({ cron: '0 8 * * FUNDAY' })).toEqual({ cron: expect.stringContaining('is not a valid cron expression') as string });
    expect(problemsWith({ cron: '0 0 8 * * *' })).toEqual({ cron: expect.stringContaining('five fields') as string });
    expect(problemsWith({ cron: '@weekly' })).toEqual({ cron: expect.stringContaining('five fields') as string });
    expect(problemsWith({ cron: '*/5 * * * *' })).toEqual({ cron: expect.stringContaining('at most once an hour') as string });
    expect(problemsWith({ cron: '0 0 30 2 *' })).toEqual({ cron: 'never fires: no date matches it' });
    expect(problemsWith({ cron: '0 8 1 * MON' })).toEqual({ cron: expect.stringContaining('not both') as string });
  });

  it('names the time zone when it is no IANA zone, offsets included', () => {
    for (const timeZone of ['Mars/Olympus_Mons', '+01:00', 'EST5EDT!', '']) {
      expect(problemsWith({ timeZone })).toEqual({ timeZone: expect.stringContaining('must be an IANA time zone') as string });
    }
  });

  it('names the recipient that is no e-mail address, and a repeated one', () => {
    expect(problemsWith({ recipients: ['analytics@example.org', 'not an address'] })).toEqual({ 'recipients.1': 'must be an e-mail address' });
    expect(problemsWith({ recipients: ['analytics@example.org', 'Analytics@Example.org'] })).toEqual({ recipients: 'must not repeat a recipient' });
    expect(problemsWith({ recipients: Array.from({ length: 51 }, (_, i) => `reader${i}@example.org`) })).toEqual({ recipients: 'must list at most 50 recipients' });
  });

  it('names the formats when there are none, an unknown one or a repeat', () => {
    expect(problemsWith({ formats: [] })).toEqual({ formats: 'must name at least one format' });
    expect(Object.keys(problemsWith({ formats: ['pdf', 'docx'] }))).toEqual(['formats.1']);
    expect(problemsWith({ formats: ['pdf', 'pdf'] })).toEqual({ formats: 'must not repeat a format' });
  });

  it('names the other fields: id, kind, period, enabled, and a field it does not know', () => {
    expect(Object.keys(problemsWith({ id: 'Weekly Outcomes', kind: 'finance', period: 'previous_fortnight', enabled: 'yes' })).sort()).toEqual(['enabled', 'id', 'kind', 'period']);
    expect(reportScheduleSchema.safeParse({ ...valid, recipient: 'typo@example.org' }).error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['recipient'] });
  });
});

describe('next runs', () => {
  it('gives the wall-clock time in the zone, with the offset of the day (New York, spring 2027)', () => {
    expect(nextRuns(schedule('0 8 * * MON', NEW_YORK), new Date('2027-03-01T00:00:00Z'), 4)).toEqual([
      '2027-03-01T08:00:00-05:00',
      '2027-03-08T08:00:00-05:00',
      '2027-03-15T08:00:00-04:00',
      '2027-03-22T08:00:00-04:00',
    ]);
    expect(nextRuns(schedule('0 8 * * MON', LONDON), new Date('2027-03-20T00:00:00Z'))).toEqual(['2027-03-22T08:00:00+00:00', '2027-03-29T08:00:00+01:00', '2027-04-05T08:00:00+01:00']);
  });

  it('runs a time the clocks skip at the end of the gap, on the same day', () => {
    // London skips 01:00-02:00 on 28 March 2027; New York 02:00-03:00 on 14 March 2027.
    expect(nextRuns(schedule('30 1 * * *', LONDON), new Date('2027-03-27T00:00:00Z'))).toEqual(['2027-03-27T01:30:00+00:00', '2027-03-28T02:00:00+01:00', '2027-03-29T01:30:00+01:00']);
    expect(nextRuns(schedule('30 2 * * *', NEW_YORK), new Date('2027-03-13T12:00:00Z'), 2)).toEqual(['2027-03-14T03:00:00-04:00', '2027-03-15T02:30:00-04:00']);
    expect(nextRuns(schedule('30 2,14 * * *', NEW_YORK), new Date('2027-03-13T20:00:00Z'), 2)).toEqual(['2027-03-14T03:00:00-04:00', '2027-03-14T14:30:00-04:00']);
  });

  it('runs a time the clocks pass twice once, at the first pass, hour lists included', () => {
    expect(nextRuns(schedule('30 1 * * *', LONDON), new Date('2027-10-30T12:00:00Z'), 2)).toEqual(['2027-10-31T01:30:00+01:00', '2027-11-01T01:30:00+00:00']);
    expect(nextRuns(schedule('30 1 * * *', NEW_YORK), new Date('2027-11-06T12:00:00Z'), 2)).toEqual(['2027-11-07T01:30:00-04:00', '2027-11-08T01:30:00-05:00']);
    expect(nextRuns(schedule('30 1,13 * * *', NEW_YORK), new Date('2027-11-06T20:00:00Z'), 2)).toEqual(['2027-11-07T01:30:00-04:00', '2027-11-07T13:30:00-05:00']);
  });

  it('runs an hourly schedule in each real hour, so twice at 01:00 on the night London falls back', () => {
    expect(nextRuns(schedule('0 * * * *', LONDON), new Date('2027-10-30T23:30:00Z'), 4)).toEqual(['2027-10-31T01:00:00+01:00', '2027-10-31T01:00:00+00:00', '2027-10-31T02:00:00+00:00', '2027-10-31T03:00:00+00:00']);
  });

  it('gives only runs after the instant, and none for a disabled schedule', () => {
    expect(nextRuns(schedule('0 8 * * MON', NEW_YORK), new Date('2027-03-15T12:00:00Z'), 1)).toEqual(['2027-03-22T08:00:00-04:00']);
    expect(nextRuns({ ...schedule('0 8 * * MON', NEW_YORK), enabled: false }, new Date('2027-03-01T00:00:00Z'))).toEqual([]);
  });
});

describe('the period a run covers', () => {
  const covered = (period: ReportPeriod, firedAt: string, timeZone: string) => periodOf(period, new Date(firedAt), timeZone);

  it('covers the local week before a Monday run: 167 hours across the spring change, 169 across the autumn one', () => {
    const cases: [string, string, string, string, string, number][] = [
      [NEW_YORK, '2027-03-15T08:00:00-04:00', '2027-03-08T00:00:00-05:00', '2027-03-15T00:00:00-04:00', '2027-W10', 167],
      [NEW_YORK, '2027-11-08T08:00:00-05:00', '2027-11-01T00:00:00-04:00', '2027-11-08T00:00:00-05:00', '2027-W44', 169],
      [LONDON, '2027-03-29T08:00:00+01:00', '2027-03-22T00:00:00+00:00', '2027-03-29T00:00:00+01:00', '2027-W12', 167],
      [LONDON, '2027-11-01T08:00:00+00:00', '2027-10-25T00:00:00+01:00', '2027-11-01T00:00:00+00:00', '2027-W43', 169],
      [LONDON, '2027-03-22T08:00:00+00:00', '2027-03-15T00:00:00+00:00', '2027-03-22T00:00:00+00:00', '2027-W11', 168],
    ];
    for (const [timeZone, firedAt, from, to, label, hours] of cases) {
      const period = covered('previous_week', firedAt, timeZone);
      expect(period).toEqual({ from, to, timeZone, label });
      expect(hoursOf(period)).toBe(hours);
    }
  });

  it('covers the 23- and 25-hour local days for previous_day runs in both zones', () => {
    expect(covered('previous_day', '2027-03-29T08:00:00+01:00', LONDON)).toEqual({ from: '2027-03-28T00:00:00+00:00', to: '2027-03-29T00:00:00+01:00', timeZone: LONDON, label: '2027-03-28' });
    expect(hoursOf(covered('previous_day', '2027-03-29T08:00:00+01:00', LONDON))).toBe(23);
    expect(hoursOf(covered('previous_day', '2027-11-01T08:00:00+00:00', LONDON))).toBe(25);
    expect(hoursOf(covered('previous_day', '2027-03-15T08:00:00-04:00', NEW_YORK))).toBe(23);
    expect(covered('previous_day', '2027-11-08T08:00:00-05:00', NEW_YORK)).toMatchObject({ from: '2027-11-07T00:00:00-04:00', to: '2027-11-08T00:00:00-05:00', label: '2027-11-07' });
    expect(hoursOf(covered('previous_day', '2027-11-08T08:00:00-05:00', NEW_YORK))).toBe(25);
  });

  it('takes the day from the reader\'s calendar, not UTC\'s', () => {
    // 02:00Z on 15 March is 22:00 on 14 March in New York: the day before is the 13th.
    expect(covered('previous_day', '2027-03-15T02:00:00Z', NEW_YORK).label).toBe('2027-03-13');
    expect(covered('previous_day', '2027-03-15T02:00:00Z', LONDON).label).toBe('2027-03-14');
  });

  it('covers the intended day when a run fires late because its time did not exist', () => {
    const [moved, next] = nextRuns(schedule('30 2 * * *', NEW_YORK), new Date('2027-03-13T12:00:00Z'), 2) as [string, string];
    expect(moved).toBe('2027-03-14T03:00:00-04:00');
    const first = covered('previous_day', moved, NEW_YORK);
    const second = covered('previous_day', next, NEW_YORK);
    expect(first).toMatchObject({ from: '2027-03-13T00:00:00-05:00', to: '2027-03-14T00:00:00-05:00', label: '2027-03-13' });
    expect(second).toMatchObject({ from: first.to, label: '2027-03-14' });
    expect(hoursOf(second)).toBe(23);
  });

  it('makes ten daily runs through either change cover ten local days end to end, in both zones', () => {
    const cases = [[LONDON, '2027-03-20T00:00:00Z', 239], [LONDON, '2027-10-25T00:00:00Z', 241], [NEW_YORK, '2027-03-10T00:00:00Z', 239], [NEW_YORK, '2027-11-03T00:00:00Z', 241]] as const;
    for (const [timeZone, from, hours] of cases) {
      const periods = nextRuns(schedule('0 6 * * *', timeZone), new Date(from), 10).map((run) => covered('previous_day', run, timeZone));
      periods.slice(1).forEach((period, i) => expect(period.from).toBe(periods[i]!.to));
      expect(new Set(periods.map((period) => period.label)).size).toBe(10);
      expect(periods.reduce((sum, period) => sum + hoursOf(period), 0)).toBe(hours);
    }
  });

  it('covers whole months of 28, 29, 30 and 31 days, and the one with the 23-hour day', () => {
    expect(covered('previous_month', '2028-03-01T08:00:00Z', 'UTC')).toEqual({ from: '2028-02-01T00:00:00+00:00', to: '2028-03-01T00:00:00+00:00', timeZone: 'UTC', label: '2028-02' });
    expect(hoursOf(covered('previous_month', '2028-03-01T08:00:00Z', 'UTC')) / 24).toBe(29);
    expect(hoursOf(covered('previous_month', '2027-03-01T08:00:00Z', 'UTC')) / 24).toBe(28);
    expect(hoursOf(covered('previous_month', '2027-05-01T08:00:00Z', 'UTC')) / 24).toBe(30);
    expect(covered('previous_month', '2027-04-01T08:00:00+01:00', LONDON)).toMatchObject({ from: '2027-03-01T00:00:00+00:00', to: '2027-04-01T00:00:00+01:00', label: '2027-03' });
    expect(hoursOf(covered('previous_month', '2027-04-01T08:00:00+01:00', LONDON))).toBe(31 * 24 - 1);
    expect(covered('previous_month', '2028-01-01T08:00:00-05:00', NEW_YORK)).toMatchObject({ from: '2027-12-01T00:00:00-05:00', to: '2028-01-01T00:00:00-05:00', label: '2027-12' });
  });

  it('covers the month to the end of the day before the run, and the whole month just ended on the 1st', () => {
    expect(covered('month_to_date', '2027-03-15T08:00:00-04:00', NEW_YORK)).toEqual({ from: '2027-03-01T00:00:00-05:00', to: '2027-03-15T00:00:00-04:00', timeZone: NEW_YORK, label: '2027-03-01--2027-03-14' });
    expect(covered('month_to_date', '2027-04-01T08:00:00-04:00', NEW_YORK)).toMatchObject({ from: '2027-03-01T00:00:00-05:00', to: '2027-04-01T00:00:00-04:00', label: '2027-03-01--2027-03-31' });
    expect(covered('month_to_date', '2028-02-29T08:00:00Z', 'UTC').label).toBe('2028-02-01--2028-02-28');
    expect(covered('month_to_date', '2028-03-01T08:00:00Z', 'UTC').label).toBe('2028-02-01--2028-02-29');
  });

  it('labels ISO weeks by their week-year across the turn of the year', () => {
    // 2026 has 53 ISO weeks; its week 53 runs Monday 28 December 2026 to Sunday 3 January 2027.
    expect(covered('previous_week', '2027-01-04T08:00:00Z', 'UTC')).toMatchObject({ from: '2026-12-28T00:00:00+00:00', label: '2026-W53' });
    expect(covered('previous_week', '2027-01-03T08:00:00Z', 'UTC').label).toBe('2026-W52');
    expect(covered('previous_week', '2027-01-11T08:00:00Z', 'UTC').label).toBe('2027-W01');
    expect(covered('previous_week', '2028-01-03T08:00:00Z', 'UTC').label).toBe('2027-W52');
  });
});
