import type { SeriesPoint } from '../../../functions/domain/anomaly/detector';
import { observeAll } from '../../../functions/domain/anomaly/scoring';
import { seasonal } from '../../../functions/domain/anomaly/seasonal';
import { syntheticSeries } from '../../../functions/domain/anomaly/synthetic-series';

const HOUR = 3_600_000;
const NO_ANOMALIES = { spikes: 0, dips: 0, levelShifts: 0 };
const hourly = seasonal.parseConfig({ intervalMs: HOUR, seasonLength: 24 });
const WARM_UP = 2 * 24;

/** Hourly points around 200 with a daily cycle of ±60 or so and noise of σ = 5. */
function dailySeries(days: number, seed = 5): SeriesPoint[] {
  return [
    ...syntheticSeries({ seed, length: days * 24, startMs: 0, intervalMs: HOUR, baseline: 200, noise: 5, season: { seasonLength: 24, amplitude: 60 }, anomalies: NO_ANOMALIES, quietPrefix: 0 }).points,
  ];
}

const flaggedIndices = (verdicts: readonly ({ anomalous: boolean } | undefined)[]) => verdicts.flatMap((verdict, i) => (verdict?.anomalous ? [i] : []));

describe('seasonal', () => {
  it('gives no verdict during its first two seasons, then one for every point', () => {
    const { verdicts } = observeAll(seasonal, seasonal.initialState(hourly), dailySeries(3));

    expect(verdicts.slice(0, WARM_UP).every((verdict) => verdict === undefined)).toBe(true);
    expect(verdicts.slice(WARM_UP).every((verdict) => verdict !== undefined)).toBe(true);
  });

  it('raises no alarm on a clean seasonal series, hourly over 60 days or by the minute over a week', () => {
    const hours = observeAll(seasonal, seasonal.initialState(hourly), dailySeries(60));
    const minutes = syntheticSeries({ seed: 9, length: 7 * 1440, startMs: 0, intervalMs: 60_000, baseline: 200, noise: 5, season: { seasonLength: 1440, amplitude: 60 }, anomalies: NO_ANOMALIES, quietPrefix: 0 });
    const byMinute = observeAll(seasonal, seasonal.initialState(seasonal.parseConfig({ intervalMs: 60_000, seasonLength: 1440 })), minutes.points);

    expect(flaggedIndices(hours.verdicts)).toEqual([]);
    expect(flaggedIndices(byMinute.verdicts)).toEqual([]);
  });

  it('passes the evening peak as normal for its hour, and flags the same value at the night trough', () => {
    const points = dailySeries(10);
    const day = 8 * 24;
    const peakHour = points.slice(day, day + 24).reduce((best, point, hour) => (point.value > points[day + best]!.value ? hour : best), 0);
    const troughHour = (peakHour + 12) % 24;
    const peak = points[day + peakHour]!.value;
    const atTrough = points.map((point, i) => (i === day + 24 + troughHour ? { ...point, value: peak } : point));

    const { verdicts } = observeAll(seasonal, seasonal.initialState(hourly), atTrough);

    expect(verdicts[day + peakHour]?.anomalous).toBe(false);
    expect(verdicts[day + 24 + troughHour]).toMatchObject({ anomalous: true, direction: 'spike' });
  });

  it('flags a spike and a dip without letting them change what it expects afterwards', () => {
    const clean = dailySeries(12);
    const points = clean.map((point, i) => (i === 150 ? { ...point, value: point.value + 80 } : i === 200 ? { ...point, value: point.value - 80 } : point));

    const withAnomalies = observeAll(seasonal, seasonal.initialState(hourly), points);
    const without = observeAll(seasonal, seasonal.initialState(hourly), clean);

    expect(flaggedIndices(withAnomalies.verdicts)).toEqual([150, 200]);
    expect(withAnomalies.verdicts[150]?.direction).toBe('spike');
    expect(withAnomalies.verdicts[200]?.direction).toBe('dip');
    // A day on, at the same hours: what it expects moved by less than the noise's σ.
    expect(Math.abs(withAnomalies.verdicts[174]!.expected - without.verdicts[174]!.expected)).toBeLessThan(5);
    expect(Math.abs(withAnomalies.verdicts[224]!.expected - without.verdicts[224]!.expected)).toBeLessThan(5);
  });

  it('flags a level shift from its first point and takes it as the new level after levelShiftAfter flags', () => {
    const points = dailySeries(20).map((point, i) => (i >= 300 ? { ...point, value: point.value + 60 } : point));

    const { verdicts } = observeAll(seasonal, seasonal.initialState(hourly), points);

    expect(verdicts[300]).toMatchObject({ anomalous: true, direction: 'spike' });
    expect(flaggedIndices(verdicts).every((i) => i >= 300 && i < 300 + hourly.levelShiftAfter + 2)).toBe(true);
    expect(Math.abs(verdicts[479]!.expected - points[479]!.value)).toBeLessThan(20);
  });

  it('keeps the phase of the season across a gap in the series', () => {
    const points = dailySeries(10).filter((_, i) => i < 100 || i >= 107);

    const { verdicts } = observeAll(seasonal, seasonal.initialState(hourly), points);

    expect(flaggedIndices(verdicts)).toEqual([]);
  });

  it('starts from the seasons it saw when an outage took one season of its warm-up, and warms up again when it took all but one', () => {
    const threeSeasons = seasonal.parseConfig({ intervalMs: HOUR, seasonLength: 24, initialSeasons: 3 });
    const oneSkipped = dailySeries(8).filter((_, i) => i < 24 || i >= 48);
    const allButOneSkipped = dailySeries(8).filter((_, i) => i < 24 || i >= 72);

    const skippedOne = observeAll(seasonal, seasonal.initialState(threeSeasons), oneSkipped);
    const skippedTwo = observeAll(seasonal, seasonal.initialState(threeSeasons), allButOneSkipped);

    // Hour 72 is the first after three seasons: 48 points in, one season later.
    expect(skippedOne.verdicts.findIndex((verdict) => verdict !== undefined)).toBe(48);
    expect(flaggedIndices(skippedOne.verdicts)).toEqual([]);
    expect(skippedTwo.verdicts.findIndex((verdict) => verdict !== undefined)).toBe(24 + 3 * 24);
    expect(flaggedIndices(skippedTwo.verdicts)).toEqual([]);
  });

  it.each([30, 200])('resumes from a state stored as JSON after %i points exactly as if it had never stopped', (split) => {
    const points = dailySeries(12).map((point, i) => (i === 220 ? { ...point, value: point.value + 90 } : point));
    const straight = observeAll(seasonal, seasonal.initialState(hourly), points);

    const first = observeAll(seasonal, seasonal.initialState(hourly), points.slice(0, split));
    const stored = JSON.parse(JSON.stringify(first.state)) as typeof first.state;
    const second = observeAll(seasonal, stored, points.slice(split));

    expect([...first.verdicts, ...second.verdicts]).toEqual(straight.verdicts);
    expect(second.state).toEqual(straight.state);
  });

  it('fills in defaults and refuses a bad or misspelled config', () => {
    expect(hourly).toMatchObject({ intervalMs: HOUR, seasonLength: 24, initialSeasons: 2, threshold: 4.5, levelShiftAfter: 6 });
    expect(() => seasonal.parseConfig({ seasonLength: 24 })).toThrow(/intervalMs/);
    expect(() => seasonal.parseConfig({ intervalMs: HOUR, seasonLength: 1 })).toThrow(/seasonLength/);
    expect(() => seasonal.parseConfig({ intervalMs: HOUR, seasonLength: 24, alpha: 1.5 })).toThrow(/alpha/);
    expect(() => seasonal.parseConfig({ intervalMs: HOUR, seasonLenght: 24 })).toThrow(/seasonLenght/);
  });
});
