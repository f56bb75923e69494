import type { SeriesPoint } from '../../../functions/domain/anomaly/detector';
import { robustZScore } from '../../../functions/domain/anomaly/robust-z-score';
import { observeAll } from '../../../functions/domain/anomaly/scoring';
import { syntheticSeries } from '../../../functions/domain/anomaly/synthetic-series';

const MINUTE = 60_000;
const NO_ANOMALIES = { spikes: 0, dips: 0, levelShifts: 0 };

/** A clean minute series around 100 with noise of σ = 5. */
function cleanSeries(length: number, seed = 11): SeriesPoint[] {
  return [...syntheticSeries({ seed, length, startMs: 0, intervalMs: MINUTE, baseline: 100, noise: 5, anomalies: NO_ANOMALIES, quietPrefix: 0 }).points];
}

function withValue(points: SeriesPoint[], index: number, value: number): SeriesPoint[] {
  return points.map((point, i) => (i === index ? { ...point, value } : point));
}

const defaults = robustZScore.parseConfig({});

describe('robustZScore', () => {
  it('gives no verdict until the window is full, then one for every point', () => {
    const { verdicts } = observeAll(robustZScore, robustZScore.initialState(defaults), cleanSeries(defaults.windowSize + 5));

    expect(verdicts.slice(0, defaults.windowSize).every((verdict) => verdict === undefined)).toBe(true);
    expect(verdicts.slice(defaults.windowSize).every((verdict) => verdict !== undefined)).toBe(true);
  });

  it('starts judging after warmUp points when asked to', () => {
    const config = robustZScore.parseConfig({ windowSize: 60, warmUp: 10 });
    const { verdicts } = observeAll(robustZScore, robustZScore.initialState(config), cleanSeries(12));

    expect(verdicts.map((verdict) => verdict !== undefined)).toEqual([...Array<boolean>(10).fill(false), true, true]);
  });

  it('flags a spike and a dip with their direction and the median it expected', () => {
    const points = withValue(withValue(cleanSeries(300), 200, 160), 250, 40);
    const { verdicts } = observeAll(robustZScore, robustZScore.initialState(defaults), points);

    expect(verdicts[200]).toMatchObject({ anomalous: true, direction: 'spike' });
    expect(verdicts[200]!.expected).toBeCloseTo(100, -1);
    expect(verdicts[200]!.score).toBeGreaterThan(defaults.threshold);
    expect(verdicts[250]).toMatchObject({ anomalous: true, direction: 'dip' });
    const flagged = verdicts.flatMap((verdict, i) => (verdict?.anomalous ? [i] : []));
    expect(flagged).toEqual([200, 250]);
  });

  it('flags a level shift from its first point and accepts the new level once it fills half the window', () => {
    const points = cleanSeries(600).map((point, i) => (i >= 300 ? { ...point, value: point.value + 50 } : point));
    const { verdicts } = observeAll(robustZScore, robustZScore.initialState(defaults), points);

    expect(verdicts[300]).toMatchObject({ anomalous: true, direction: 'spike' });
    expect(verdicts[301]?.anomalous).toBe(true);
    const lastFlag = verdicts.reduce((last, verdict, i) => (verdict?.anomalous ? i : last), -1);
    expect(lastFlag).toBeLessThan(300 + defaults.windowSize / 2 + 10);
    expect(verdicts[599]!.expected).toBeCloseTo(150, -1);
  });

  it('scores a change on a series that sat still as large but finite', () => {
    const still: SeriesPoint[] = Array.from({ length: 130 }, (_, i) => ({ t: i * MINUTE, value: i === 125 ? 1 : 0 }));
    const { verdicts } = observeAll(robustZScore, robustZScore.initialState(defaults), still);

    expect(verdicts[124]).toMatchObject({ anomalous: false, score: 0, direction: 'none' });
    expect(verdicts[125]).toMatchObject({ anomalous: true, direction: 'spike' });
    expect(Number.isFinite(verdicts[125]!.score)).toBe(true);
  });

  it('resumes from a state that went through JSON exactly as if it had never stopped', () => {
    const points = withValue(cleanSeries(400), 300, 170);
    const straight = observeAll(robustZScore, robustZScore.initialState(defaults), points);

    const first = observeAll(robustZScore, robustZScore.initialState(defaults), points.slice(0, 250));
    const stored = JSON.parse(JSON.stringify(first.state)) as typeof first.state;
    const second = observeAll(robustZScore, stored, points.slice(250));

    expect([...first.verdicts, ...second.verdicts]).toEqual(straight.verdicts);
    expect(second.state).toEqual(straight.state);
  });

  it('leaves the state it was given as it was', () => {
    const state = observeAll(robustZScore, robustZScore.initialState(defaults), cleanSeries(130)).state;
    const copy = JSON.parse(JSON.stringify(state)) as unknown;

    robustZScore.observe(state, { t: 131 * MINUTE, value: 500 });

    expect(state).toEqual(copy);
  });

  it('refuses a point out of time order or not finite', () => {
    const { state } = robustZScore.observe(robustZScore.initialState(defaults), { t: 1_000, value: 1 });

    expect(() => robustZScore.observe(state, { t: 1_000, value: 2 })).toThrow(RangeError);
    expect(() => robustZScore.observe(state, { t: 2_000, value: Number.NaN })).toThrow(RangeError);
  });

  it('fills in defaults and refuses a bad or misspelled config', () => {
    expect(defaults).toEqual({ windowSize: 120, threshold: 4, minScale: 1e-6, minRelativeScale: 0.01 });
    expect(() => robustZScore.parseConfig({ threshold: -1 })).toThrow(/threshold/);
    expect(() => robustZScore.parseConfig({ windowSize: 2 })).toThrow(/windowSize/);
    expect(() => robustZScore.parseConfig({ treshold: 3 })).toThrow(/treshold/);
    expect(() => robustZScore.parseConfig({ windowSize: 20, warmUp: 30 })).toThrow(/warmUp/);
  });
});
