import fc from 'fast-check';
import { calendarBounds, isoInstantInZone } from '../../../functions/domain/rollups/calendar';
import {
  changeBetween,
  mannKendall,
  MIN_TREND_POINTS,
  periodFigure,
  theilSen,
  trendOf,
  weeklySeasonality,
  type NotEnoughData,
  type SeriesPoint,
  type TrendOptions,
} from '../../../functions/domain/reports/trends';

const LONDON = 'Europe/London';
const weekly: TrendOptions = { interval: 'week', timeZone: 'UTC' };
const daily: TrendOptions = { interval: 'day', timeZone: LONDON };

/** Points at successive local midnights of `zone` from `firstDay`, one per value. */
function dailySeries(values: readonly (number | null)[], zone = LONDON, firstDay = '2027-03-01'): SeriesPoint[] {
  const start = calendarBounds(Date.parse(`${firstDay}T12:00:00Z`), Date.parse(`${firstDay}T12:00:01Z`), 'day', zone)[0]!;
  const midnights = calendarBounds(start, start + (values.length - 0.5) * 86_400_000, 'day', zone);
  return values.map((value, i) => ({ at: isoInstantInZone(midnights[i]!, zone), value }));
}

/** Points every 7 UTC days, one per value. */
const weeklySeries = (values: readonly (number | null)[]): SeriesPoint[] =>
  values.map((value, i) => ({ at: new Date(Date.UTC(2027, 0, 4 + 7 * i)).toISOString(), value }));

// Six weeks from Monday 1 March 2027 in London (the clocks go forward on Sunday 28 March): a rise
// of 0.5 a day, a repeating wiggle, and with `weekends` 30 less on Saturdays and Sundays.
const sixWeeks = (weekends: boolean) =>
  Array.from({ length: 42 }, (_, i) => 100 + 0.5 * i + (weekends && i % 7 >= 5 ? -30 : 0) + ((i * 37) % 11) - 5);

function ok<T extends object>(result: T | NotEnoughData): T {
  if ('status' in result && result.status === 'not_enough_data') throw new Error(`expected a result, got ${JSON.stringify(result)}`);
  return result as T;
}

describe('Mann-Kendall and Theil-Sen', () => {
  it('finds a strict rise of eight points significant, with the hand-computed S, variance, Z and p', () => {
    const result = ok(mannKendall(weeklySeries([1, 2, 3, 4, 5, 6, 7, 8]), weekly));
    // Every one of the 28 pairs rises: S = 28; Var = 8·7·21/18; Z = 27/√Var; p = 2·P(Z > 3.3404).
    expect(result.s).toBe(28);
    expect(result.variance).toBeCloseTo(65.3333333, 6);
    expect(result.z).toBeCloseTo(3.340383700311406, 12);
    expect(result.pValue).toBeCloseTo(0.0008366271311193044, 9);
    expect(result.direction).toBe('increasing');
  });

  it('reproduces a published worked example with one tie (Little, Holy Cross, "A Mann-Kendall Example (By Hand)")', () => {
    // https://mathcs.holycross.edu/~little/Montserrat/MannKendallByHand.txt: 72 pairs rise, 18 fall,
    // 1 ties, S = 54; V = 14·13·33/18 − 2·1·9/18; Z = 53/√V = 2.9058; one-sided p about .0018.
    const values = [12.9, 14.8, 13.2, 15.7, 13.8, 15.6, 12.9, 11.0, 17.3, 15.9, 19.0, 18.3, 20.1, 21.7];
    const result = ok(mannKendall(dailySeries(values), daily));
    expect(result.s).toBe(54);
    expect(result.variance).toBeCloseTo(332.666667, 5);
    expect(result.z).toBeCloseTo(2.9058, 4);
    // Two-sided: twice the page's one tail (scipy 1.17.1: 2·norm.sf(2.905836845996537)).
    expect(result.pValue).toBeCloseTo(0.003662723762882436, 9);
    expect(result.direction).toBe('increasing');
  });

  it('corrects the variance for ties and agrees with scipy on S, p, the slope and its interval', () => {
    // Two 3s and three 7s: Var = (10·9·25 − 2·1·9 − 3·2·11)/18 = 120.33. The references are
    // scipy 1.17.1: S from stats.kendalltau's tau-b, the slope and interval from stats.theilslopes.
    const values = [5, 3, 3, 6, 7, 7, 7, 9, 4, 10];
    const test = ok(mannKendall(dailySeries(values), daily));
    expect(test).toEqual({ s: 25, variance: expect.closeTo(120.333333, 5) as number, z: expect.closeTo(2.1878536516659506, 12) as number, pValue: expect.closeTo(0.028680264322081636, 8) as number, direction: 'increasing' });
    const slope = ok(theilSen(dailySeries(values), daily));
    expect(slope.perDay).toBeCloseTo(4 / 7, 12);
    expect([slope.lower, slope.upper]).toEqual([0, 1]);
    expect(slope.valueAtStart).toBeCloseTo(3.928571428571429, 12);
  });

  it('gives a falling series with ties its direction, slope and interval as scipy does', () => {
    const values = [10, 9, 9, 8, 11, 7, 6, 6, 5, 4, 4, 3];
    const test = ok(mannKendall(dailySeries(values), daily));
    expect(test.s).toBe(-55);
    expect(test.variance).toBeCloseTo(209.666667, 5);
    expect(test.pValue).toBeCloseTo(0.0001920010335836478, 9);
    expect(test.direction).toBe('decreasing');
    const slope = ok(theilSen(dailySeries(values), daily));
    expect([slope.perDay, slope.lower, slope.upper]).toEqual([-0.625, -2 / 3, -5 / 9]);
  });

  it('gives a line with a fifth of its points wild exactly the line slope', () => {
    const values = Array.from({ length: 20 }, (_, day) => 2 * day + 1);
    for (const [day, wild] of [[3, 500], [8, -400], [13, 900], [17, -50]] as const) values[day] = wild;
    const slope = ok(theilSen(dailySeries(values), daily));
    expect(slope.perDay).toBe(2);
    expect(slope.valueAtStart).toBe(1);
    expect(slope.lower).toBeLessThanOrEqual(2);
    expect(slope.upper).toBeGreaterThanOrEqual(2);
  });

  it('finds no trend in a series that never moves: S 0, variance 0, p 1, slope 0', () => {
    const points = dailySeries(new Array<number>(12).fill(7));
    expect(ok(mannKendall(points, daily))).toEqual({ s: 0, variance: 0, z: 0, pValue: 1, direction: 'no trend' });
    expect(ok(theilSen(points, daily))).toEqual({ perDay: 0, lower: 0, upper: 0, valueAtStart: 7 });
  });

  it('skips suppressed points instead of reading them as zero, and counts them', () => {
    const rising = [10, 11, null, 12, 13, null, 14, 15, 16, 17];
    const trend = ok(trendOf(weeklySeries(rising), weekly));
    expect(trend).toMatchObject({ points: 8, suppressed: 2, method: 'mann-kendall', mannKendall: { s: 28, direction: 'increasing' } });
    // Every one of the 28 pairs rises. Read as zeros, the gaps would be two dips: of 45 pairs,
    // 6 would fall (each zero below the values before it) and the two zeros would tie.
    expect(ok(trendOf(weeklySeries(rising.map((value) => value ?? 0)), weekly)).mannKendall.s).toBe(38 - 6);
  });

  it('answers not_enough_data, with what it needed and had, below eight usable values', () => {
    const points = weeklySeries([1, 2, null, 3, 4, 5, 6, null, 7]);
    const expected = { status: 'not_enough_data', reason: expect.stringContaining(`at least ${MIN_TREND_POINTS}`) as string, needed: 8, have: 7 };
    expect(trendOf(points, weekly)).toEqual(expected);
    expect(mannKendall(points, weekly)).toEqual(expected);
    expect(theilSen(points, weekly)).toEqual(expected);
    expect(trendOf([], weekly)).toMatchObject({ status: 'not_enough_data', have: 0 });
  });

  it('measures a daily slope in local days, so the 23-hour day of the spring change does not steepen it', () => {
    // 20 days of London midnights around 28 March 2027: one gap between them is 23 hours.
    const points = dailySeries(Array.from({ length: 20 }, (_, day) => 3 * day), LONDON, '2027-03-18');
    expect(points.map((point) => point.at.slice(19))).toContain('+01:00');
    expect(ok(theilSen(points, daily))).toMatchObject({ perDay: 3, lower: 3, upper: 3 });
  });

  it('measures an hourly slope in elapsed time through the repeated autumn hour', () => {
    // Hourly from 22:00Z on 30 October 2027; London repeats 01:00-02:00 on 31 October.
    const points = Array.from({ length: 10 }, (_, hour) => ({ at: new Date(Date.UTC(2027, 9, 30, 22 + hour)).toISOString(), value: hour }));
    expect(ok(theilSen(points, { interval: 'hour', timeZone: LONDON }))).toMatchObject({ perDay: 24, lower: 24, upper: 24 });
  });

  it('refuses a series a caller has got wrong: an unreadable instant, two values for one instant, a non-finite value', () => {
    const good = weeklySeries([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => trendOf([...good, { at: 'last Tuesday', value: 1 }], weekly)).toThrow(/cannot be read/);
    expect(() => trendOf([...good, { at: good[0]!.at, value: 1 }], weekly)).toThrow(/share the instant/);
    expect(() => trendOf([...good, { at: '2030-01-01T00:00:00Z', value: Number.NaN }], weekly)).toThrow(/not finite/);
  });
});

describe('properties of the trend', () => {
  const line = fc.record({ slope: fc.integer({ min: -50, max: 50 }), intercept: fc.integer({ min: -1000, max: 1000 }), length: fc.integer({ min: MIN_TREND_POINTS, max: 40 }) });

  it('recovers the slope of a noise-free line exactly, with a zero-width interval and the right direction', () => {
    fc.assert(
      fc.property(line, ({ slope, intercept, length }) => {
        const points = dailySeries(Array.from({ length }, (_, day) => slope * day + intercept));
        const trend = ok(trendOf(points, daily));
        expect(trend.slope).toMatchObject({ perDay: slope, lower: slope, upper: slope, valueAtStart: intercept });
        expect(trend.mannKendall.direction).toBe(slope > 0 ? 'increasing' : slope < 0 ? 'decreasing' : 'no trend');
      }),
    );
  });

  const noisy = fc
    .array(fc.oneof(fc.integer({ min: -100, max: 100 }), fc.constant(null)), { minLength: 10, maxLength: 40 })
    .filter((values) => values.filter((value) => value !== null).length >= MIN_TREND_POINTS);

  it('is unmoved by adding a constant, and mirrored by negating the values', () => {
    fc.assert(
      fc.property(noisy, fc.integer({ min: -1000, max: 1000 }), (values, shift) => {
        const base = ok(trendOf(weeklySeries(values), weekly));
        const s = ok(trendOf(weeklySeries(values.map((value) => (value === null ? null : value + shift))), weekly));
        const n = ok(trendOf(weeklySeries(values.map((value) => (value === null ? null : -value))), weekly));
        expect(s.mannKendall).toEqual(base.mannKendall);
        expect([s.slope.perDay, s.slope.lower, s.slope.upper]).toEqual([base.slope.perDay, base.slope.lower, base.slope.upper]);
        expect(s.slope.valueAtStart).toBeCloseTo(base.slope.valueAtStart + shift, 9);
        expect(n.mannKendall.s + base.mannKendall.s).toBe(0);
        expect(n.mannKendall.pValue).toBe(base.mannKendall.pValue);
        expect(n.slope.perDay).toBeCloseTo(-base.slope.perDay, 12);
      }),
    );
  });

  it('does not depend on the order the points arrive in', () => {
    fc.assert(
      fc.property(noisy.chain((values) => fc.tuple(fc.constant(weeklySeries(values)), fc.shuffledSubarray(weeklySeries(values), { minLength: values.length }))), ([inOrder, shuffled]) => {
        expect(trendOf(shuffled, weekly)).toEqual(trendOf(inOrder, weekly));
      }),
    );
  });
});

describe('weekly seasonality', () => {
  it('finds the weekend dip (Kruskal-Wallis as scipy gives it) and then tests the trend within weekdays', () => {
    const trend = ok(trendOf(dailySeries(sixWeeks(true)), daily));
    // scipy 1.17.1: stats.kruskal over the weekdays of the values less 0.5 a day (the
    // series' Theil-Sen slope); the seasonal S, variance, slope and interval by brute force.
    expect(trend.seasonality).toEqual({ status: 'present', period: 'week', test: 'kruskal-wallis', statistic: expect.closeTo(26.870555555555576, 9) as number, pValue: expect.closeTo(0.00015312019822115826, 9) as number });
    expect(trend.method).toBe('seasonal-mann-kendall');
    expect(trend.mannKendall).toMatchObject({ s: 65, variance: expect.closeTo(198.333333, 5) as number, direction: 'increasing' });
    expect(trend.mannKendall.pValue).toBeCloseTo(5.507672039381168e-6, 11);
    expect(trend.slope.perDay).toBeCloseTo(4 / 7, 12);
    expect(trend.slope.lower).toBeCloseTo(0.4142857142857143, 12);
    expect(trend.slope.upper).toBeCloseTo(4 / 7, 12);
  });

  it('finds none without the weekend dip, and keeps the plain test', () => {
    const trend = ok(trendOf(dailySeries(sixWeeks(false)), daily));
    expect(trend.seasonality).toMatchObject({ status: 'absent', statistic: expect.closeTo(3.962413131067286, 9) as number, pValue: expect.closeTo(0.6817630953131721, 9) as number });
    expect(trend.method).toBe('mann-kendall');
    expect(trend.mannKendall.s).toBe(641);
    expect(trend.slope.perDay).toBeCloseTo(0.54, 12);
  });

  it('needs five values on every weekday: four weeks are not enough', () => {
    const fourWeeks = dailySeries(sixWeeks(true).slice(0, 28));
    expect(weeklySeasonality(fourWeeks, LONDON)).toEqual({ status: 'not_enough_data', reason: expect.stringContaining('each weekday') as string, needed: 5, have: 4 });
    expect(ok(trendOf(fourWeeks, daily)).method).toBe('mann-kendall');
  });

  it('finds none in a series that never moves, whose ranks all tie', () => {
    expect(weeklySeasonality(dailySeries(new Array<number>(35).fill(4)), LONDON)).toEqual({ status: 'absent', period: 'week', test: 'kruskal-wallis', statistic: 0, pValue: 1 });
  });

  it('is not looked for in weekly or hourly series', () => {
    const trend = ok(trendOf(weeklySeries(sixWeeks(true)), weekly));
    expect(trend.seasonality).toEqual({ status: 'not_checked', reason: expect.stringContaining('daily series only') as string });
  });
});

describe('change against the previous period and the baseline', () => {
  const at = (day: number) => new Date(Date.UTC(2027, 2, day)).toISOString();

  it('sums or averages a period, and says why there is no figure for an empty or partly suppressed one', () => {
    const week = [10, 12, 14].map((value, i) => ({ at: at(i + 1), value }));
    expect(periodFigure(week, 'sum')).toEqual({ value: 36 });
    expect(periodFigure(week, 'mean')).toEqual({ value: 12 });
    expect(periodFigure([], 'sum')).toEqual({ value: null, reason: 'empty' });
    expect(periodFigure([...week, { at: at(4), value: null }], 'mean')).toEqual({ value: null, reason: 'suppressed' });
  });

  it('gives the absolute and relative change, relative to the size of a negative reference', () => {
    expect(changeBetween({ value: 120 }, { value: 100 })).toEqual({ current: 120, reference: 100, absolute: 20, relative: 0.2 });
    expect(changeBetween({ value: 75 }, { value: 100 })).toEqual({ current: 75, reference: 100, absolute: -25, relative: -0.25 });
    expect(changeBetween({ value: -25 }, { value: -50 })).toEqual({ current: -25, reference: -50, absolute: 25, relative: 0.5 });
  });

  it('keeps the absolute change but no relative one against a zero reference', () => {
    expect(changeBetween({ value: 3 }, { value: 0 })).toEqual({ current: 3, reference: 0, absolute: 3, relative: null, gap: 'reference_zero' });
  });

  it('gives null changes with the side and reason when a period is empty or suppressed, the current side first', () => {
    expect(changeBetween({ value: null, reason: 'suppressed' }, { value: 10 })).toEqual({ current: null, reference: 10, absolute: null, relative: null, gap: 'current_suppressed' });
    expect(changeBetween({ value: 10 }, { value: null, reason: 'empty' })).toEqual({ current: 10, reference: null, absolute: null, relative: null, gap: 'reference_empty' });
    expect(changeBetween({ value: 10 }, { value: null, reason: 'suppressed' }).gap).toBe('reference_suppressed');
    expect(changeBetween({ value: null, reason: 'empty' }, { value: null, reason: 'suppressed' }).gap).toBe('current_empty');
  });
});
