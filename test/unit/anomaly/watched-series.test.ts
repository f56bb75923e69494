import { EVENT_TYPES } from '../../../functions/domain/events/schema';
import {
  initialDetectorState,
  observe,
  seriesKey,
  seriesPoints,
  strongestAnomaly,
  WATCHED_SERIES,
  type OperationalMinutes,
  type RollupMinutes,
} from '../../../functions/domain/anomaly/watched-series';
import type { SeriesRow } from '../../../functions/domain/rollups/metric-query';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0);
const minutes = [T0, T0 + MINUTE, T0 + 2 * MINUTE];

const row = (minute: number, groupKey: string, count: number, users: number, sum?: number): SeriesRow => ({
  bucket: T0 + minute * MINUTE,
  groupKey,
  count,
  users,
  usersApprox: false,
  ...(sum === undefined ? {} : { sum }),
});

const rollups: RollupMinutes = {
  eventsByType: [row(0, '["engagement.heartbeat"]', 40, 12), row(2, '["engagement.heartbeat"]', 7, 5), row(1, '["session.ended"]', 4, 4), row(1, '["crisis.signal"]', 2, 1)],
  sessionsCompleted: [row(1, '[]', 3, 3)],
  mood: [row(0, '[]', 4, 3, -1), row(2, '[]', 2, 2, 1.5)],
};
const noOperational: OperationalMinutes = { ingestErrors: [], ingestLatencyP95Ms: [] };

describe('the watched series', () => {
  it('watches events per minute of every event type, and the rates, means, errors and latency', () => {
    expect(WATCHED_SERIES.map((s) => s.key)).toEqual([
      ...EVENT_TYPES.map((type) => `events.per_minute{type=${type}}`),
      'sessions.completion_rate',
      'mood.valence_mean',
      'ingest.errors_per_minute',
      'ingest.latency_p95_ms',
    ]);
    expect(seriesKey('x', { b: '2', a: '1' })).toBe('x{a=1,b=2}');
  });

  it('counts every minute of a counter, a quiet minute as 0 with no users', () => {
    const points = seriesPoints(minutes, rollups, noOperational);
    expect(points.get('events.per_minute{type=engagement.heartbeat}')).toEqual([
      { t: T0, value: 40, users: 12 },
      { t: T0 + MINUTE, value: 0, users: 0 },
      { t: T0 + 2 * MINUTE, value: 7, users: 5 },
    ]);
    expect(points.get('events.per_minute{type=crisis.signal}')!.map((p) => p.value)).toEqual([0, 2, 0]);
  });

  it('makes the completion rate of the sessions ended in a minute, with no point where none ended', () => {
    expect(seriesPoints(minutes, rollups, noOperational).get('sessions.completion_rate')).toEqual([{ t: T0 + MINUTE, value: 0.75, users: 4 }]);
  });

  it('makes the mean mood of a minute from its sum and count, with no point where nobody reported', () => {
    expect(seriesPoints(minutes, rollups, noOperational).get('mood.valence_mean')).toEqual([
      { t: T0, value: -0.25, users: 3 },
      { t: T0 + 2 * MINUTE, value: 0.75, users: 2 },
    ]);
  });

  it('takes ingest errors (0 when none) and latency (no point without requests) from the operational minutes, without users', () => {
    const points = seriesPoints(minutes, { eventsByType: [], sessionsCompleted: [], mood: [] }, {
      ingestErrors: [{ t: T0 + MINUTE, value: 9 }],
      ingestLatencyP95Ms: [{ t: T0, value: 120 }],
    });
    expect(points.get('ingest.errors_per_minute')).toEqual([{ t: T0, value: 0 }, { t: T0 + MINUTE, value: 9 }, { t: T0 + 2 * MINUTE, value: 0 }]);
    expect(points.get('ingest.latency_p95_ms')).toEqual([{ t: T0, value: 120 }]);
  });

  it('gives event counts a daily seasonal detector as well as the robust z-score, with floors of one event', () => {
    const events = WATCHED_SERIES[0]!;
    expect(events.detectors).toEqual(['robust_z', 'seasonal']);
    const seasonalState = initialDetectorState(events, 'seasonal');
    expect(seasonalState.config).toMatchObject({ intervalMs: MINUTE, seasonLength: 1440, minScale: 1 });
    // A lone crisis signal after a quiet stretch is not an anomaly of the count; a burst of them is.
    let state = initialDetectorState(events, 'robust_z');
    for (let i = 0; i < 120; i++) state = observe(state, { t: T0 + i * MINUTE, value: 0 }).state;
    expect(observe(state, { t: T0 + 120 * MINUTE, value: 1 }).verdict?.anomalous).toBe(false);
    expect(observe(state, { t: T0 + 120 * MINUTE, value: 6 }).verdict).toMatchObject({ anomalous: true, direction: 'spike' });
  });

  it('signals the strongest of the anomalous verdicts of a point, and none when no detector flagged it', () => {
    const verdict = (anomalous: boolean, score: number) => ({ anomalous, score, expected: 1, direction: anomalous ? ('spike' as const) : ('none' as const) });
    expect(strongestAnomaly([verdict(true, 5), verdict(true, 9), verdict(false, 20)])).toEqual(verdict(true, 9));
    expect(strongestAnomaly([verdict(false, 3)])).toBeUndefined();
  });
});
