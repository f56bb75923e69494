import { DEFAULT_PREFERENCES, inQuietHours, localDay, nextDigestAt, recipientPreferencesSchema } from '../../../functions/domain/alerting/recipient';

const at = (iso: string) => new Date(iso);

describe('recipient preferences', () => {
  it('default to a digest at 08:00 UTC, no quiet hours and ten warning pages a day', () => {
    expect(DEFAULT_PREFERENCES).toEqual({ timeZone: 'UTC', digestAt: '08:00', warningPagesPerDay: 10 });
  });

  it('refuse a time that is no time of day, an unknown zone, equal quiet-hour ends and unknown fields, naming the field', () => {
    const paths = (input: unknown) => (recipientPreferencesSchema.safeParse(input).error?.issues ?? []).map((issue) => issue.path.join('.') || issue.message);

    expect(paths({ digestAt: '24:00' })).toEqual(['digestAt']);
    expect(paths({ digestAt: '8:00' })).toEqual(['digestAt']);
    expect(paths({ timeZone: 'Mars/Olympus' })).toEqual(['timeZone']);
    expect(paths({ quietHours: { from: '22:00', to: '22:00' } })).toEqual(['quietHours.to']);
    expect(paths({ warningPagesPerDay: -1 })).toEqual(['warningPagesPerDay']);
    expect(paths({ pager: '+447700900123' })).toEqual(['Unrecognized key: "pager"']);
  });
});

describe('quiet hours', () => {
  const overnight = { timeZone: 'Europe/London', quietHours: { from: '22:00', to: '07:00' } };

  it('span midnight on the wall clock of the zone, the start included and the end excluded', () => {
    // London is UTC+1 in summer: 21:00Z is 22:00 there.
    expect(inQuietHours(overnight, at('2027-07-01T20:59:00Z'))).toBe(false);
    expect(inQuietHours(overnight, at('2027-07-01T21:00:00Z'))).toBe(true);
    expect(inQuietHours(overnight, at('2027-07-02T02:00:00Z'))).toBe(true);
    expect(inQuietHours(overnight, at('2027-07-02T05:59:00Z'))).toBe(true);
    expect(inQuietHours(overnight, at('2027-07-02T06:00:00Z'))).toBe(false);
    // In winter London is on UTC: 06:30Z is still quiet.
    expect(inQuietHours(overnight, at('2027-01-05T06:30:00Z'))).toBe(true);
  });

  it('hold within a day when they do not span midnight, and never without any', () => {
    const lunch = { timeZone: 'UTC', quietHours: { from: '12:00', to: '13:00' } };
    expect(inQuietHours(lunch, at('2027-01-05T12:30:00Z'))).toBe(true);
    expect(inQuietHours(lunch, at('2027-01-05T23:30:00Z'))).toBe(false);
    expect(inQuietHours({ timeZone: 'UTC' }, at('2027-01-05T23:30:00Z'))).toBe(false);
  });
});

describe('the digest time and the day a cap counts in', () => {
  it('is the next digest time on the wall clock, across both daylight-saving changes', () => {
    const london = { timeZone: 'Europe/London', digestAt: '08:00' };
    expect(nextDigestAt(london, at('2027-03-27T09:00:00Z')).toISOString()).toBe('2027-03-28T07:00:00.000Z');
    expect(nextDigestAt(london, at('2027-10-30T08:00:00Z')).toISOString()).toBe('2027-10-31T08:00:00.000Z');
    expect(nextDigestAt(london, at('2027-10-31T07:59:00Z')).toISOString()).toBe('2027-10-31T08:00:00.000Z');
  });

  it('counts warning pages per local date', () => {
    const newYork = { timeZone: 'America/New_York' };
    expect(localDay(newYork, at('2027-01-06T03:00:00Z'))).toBe('2027-01-05');
    expect(localDay(newYork, at('2027-01-06T05:00:00Z'))).toBe('2027-01-06');
  });
});
