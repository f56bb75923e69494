import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

/**
 * Attacks on the metrics API by an analyst who may ask any number of questions (PRIVACY.md,
 * "Disclosure control across answers"), on planted small groups. Every planted person sends one
 * event per metric, so a count left over by differencing is a count of people: it must be 0 or
 * at least k.
 */
const K = 10;
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
// Closed UTC days, so no hour of the test straddles midnight: A holds the small platform and the
// extreme score, B a lone person in the night.
const dayA = today - DAY;
const dayB = today - 2 * DAY;
const at = (day: number, hh: number, mm: number) => new Date(day + hh * 3_600_000 + mm * 60_000).toISOString();
const ANDROID_VALENCE = -0.83;
const NIGHT_VALENCE = -0.95;
const EXTREME_SCORE = 23;

const mood = (userId: string, occurredAt: string, platform: string, valence: number) =>
  makeEvent({ userId, occurredAt, context: { platform }, attributes: { valence, arousal: 0.5 } }, 'mood.reported');
const people = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

interface Point {
  t: string;
  count: number;
  users: number;
  sum?: number;
  [field: string]: unknown;
}
interface Answer {
  series: { group: Record<string, string>; points: Point[] }[];
  suppressed: unknown[];
}

describe('disclosure control across answers, attacked through the API', () => {
  let app: TestRuntime;
  const answers: Answer[] = [];
  const ask = async (metric: string, day: number, interval: string, extra = ''): Promise<Answer> => {
    const response = await app.request('GET', `/v1/metrics/${metric}?from=${at(day, 0, 0)}&to=${at(day + DAY, 0, 0)}&interval=${interval}${extra}`);
    if (response.status !== 200) throw new Error(`${metric} ${interval}${extra} answered ${response.status}`);
    answers.push(response.body);
    return response.body;
  };
  /** Per parent point, its count minus the counts of the child points inside its bucket. */
  const leftOver = (parents: Answer, children: Answer, span: number): number[] =>
    parents.series.flatMap((parent) =>
      parent.points.map((point) => {
        const start = Date.parse(point.t);
        const inside = children.series
          .filter((child) => Object.entries(parent.group).every(([dimension, value]) => child.group[dimension] === value))
          .flatMap((child) => child.points)
          .filter((child) => Date.parse(child.t) >= start && Date.parse(child.t) < start + span);
        return point.count - inside.reduce((n, child) => n + child.count, 0);
      }),
    );
  const leavesNobodyAlone = (counts: number[]) => counts.every((n) => n === 0 || n >= K);

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    const events = [
      // Day A, 10:00: ten iOS users, ONE Android user (the planted small group), twelve on the web.
      ...people('ios-a', 10).map((id) => mood(id, at(dayA, 10, 5), 'ios', 0.2)),
      mood('android-a', at(dayA, 10, 20), 'android', ANDROID_VALENCE),
      ...people('web-a', 12).map((id) => mood(id, at(dayA, 10, 40), 'web', 0.4)),
      // Day A, 10:10: PHQ-9 of ten people scoring 4 and one scoring 23.
      ...people('phq-low', 10).map((userId) => makeEvent({ userId, occurredAt: at(dayA, 10, 10), attributes: { instrument: 'PHQ-9', score: 4 } }, 'assessment.completed')),
      makeEvent({ userId: 'phq-high', occurredAt: at(dayA, 10, 10), attributes: { instrument: 'PHQ-9', score: EXTREME_SCORE } }, 'assessment.completed'),
      // Day B: twelve iOS users at 10:15 and one person alone at 03:07.
      ...people('ios-b', 12).map((id) => mood(id, at(dayB, 10, 15), 'ios', 0.1)),
      mood('night-b', at(dayB, 3, 7), 'ios', NIGHT_VALENCE),
    ];
    const posted = await app.postEvents(events);
    if (posted.body.accepted !== events.length) throw new Error(`the runtime took ${posted.body.accepted} of ${events.length} events`);
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('differencing the total and the groups leaves the one Android user inside k people, at every interval', async () => {
    const spans = { minute: 60_000, hour: 3_600_000, day: DAY };
    for (const [interval, span] of Object.entries(spans)) {
      const total = await ask('mood.valence', dayA, interval);
      const byPlatform = await ask('mood.valence', dayA, interval, '&groupBy=platform');
      // The attack: the total minus the iOS and web groups.
      expect(leavesNobodyAlone(leftOver(total, byPlatform, span))).toBe(true);
      expect(byPlatform.series.map((s) => s.group.platform)).not.toContain('android');
      // iOS would be the total minus web minus Android: it is withheld with Android.
      expect(byPlatform.series.map((s) => s.group.platform)).not.toContain('ios');
      const sums = total.series.flatMap((s) => s.points.map((p) => p.sum! - byPlatform.series.flatMap((g) => g.points.filter((q) => q.t === p.t)).reduce((n, q) => n + q.sum!, 0)));
      expect(sums.some((sum) => Math.abs(sum - ANDROID_VALENCE) < 1e-9)).toBe(false);
    }
    // The web group of 12 is shown beside the total at the hour and the day.
    expect((await ask('mood.valence', dayA, 'hour', '&groupBy=platform')).series).toEqual([{ group: { platform: 'web' }, points: [expect.objectContaining({ count: 12, users: 12 })] }]);
  });

  it('differencing a coarser bucket and the finer ones inside it leaves nobody alone', async () => {
    const levels = async (groupBy: string) => Promise.all(['minute', 'hour', 'day'].map((interval) => ask('mood.valence', dayA, interval, groupBy)));
    const [[minutes, hours, days], [minutesByPlatform, hoursByPlatform, daysByPlatform]] = await Promise.all([levels(''), levels('&groupBy=platform')]);
    for (const [parents, children, span] of [
      [hours, minutes, 3_600_000],
      [days, hours, DAY],
      [hoursByPlatform, minutesByPlatform, 3_600_000],
      [daysByPlatform, hoursByPlatform, DAY],
      // Across both axes: the hour's total minus its minutes by platform.
      [hours, minutesByPlatform, 3_600_000],
      [days, hoursByPlatform, DAY],
    ] as const) {
      expect(leavesNobodyAlone(leftOver(parents!, children!, span))).toBe(true);
    }
    // Day B: the day holds 13 people; 03:00 holds one. The hours shown beside the day must not
    // be the day minus that one person: 10:00 is withheld with 03:00.
    const [hoursB, dayTotalB] = await Promise.all([ask('mood.valence', dayB, 'hour'), ask('mood.valence', dayB, 'day')]);
    expect(dayTotalB.series[0]!.points.map((p) => p.users)).toEqual([13]);
    expect(hoursB.series).toEqual([]);
    expect(leavesNobodyAlone(leftOver(dayTotalB, hoursB, DAY))).toBe(true);
  });

  it('narrow windows: a one-minute range around one person answers nothing about them', async () => {
    for (const [from, to] of [
      [at(dayA, 10, 20), at(dayA, 10, 21)],
      [at(dayB, 3, 7), at(dayB, 3, 8)],
    ]) {
      for (const groupBy of ['', '&groupBy=platform']) {
        const narrow = await app.request('GET', `/v1/metrics/mood.valence?from=${from}&to=${to}&interval=minute${groupBy}`);
        answers.push(narrow.body);
        expect(narrow.body).toMatchObject({ series: [], suppressed: [{ reason: 'k_anonymity' }] });
      }
    }
  });

  it('extreme values: one PHQ-9 of 23 among ten of 4 is in no field of any point', async () => {
    for (const interval of ['minute', 'hour', 'day']) {
      const scores = await ask('assessment.score', dayA, interval, '&groupBy=instrument');
      const [point, ...others] = scores.series.flatMap((s) => s.points);
      expect(others).toEqual([]);
      expect(point).toMatchObject({ count: 11, users: 11 });
      expect(point).not.toHaveProperty('max');
      expect(point).not.toHaveProperty('min');
      expect(Object.values(point!).filter((value) => value === EXTREME_SCORE)).toEqual([]);
      expect(point!['p95']).toBeLessThan(EXTREME_SCORE / 2);
    }
  });

  it('a local day, week or month minus the UTC hours and days inside it leaves nobody alone, in zones either side of UTC', async () => {
    const get = async (query: string): Promise<Answer> => {
      const response = await app.request('GET', `/v1/metrics/mood.valence?${query}`);
      answers.push(response.body);
      return response.body;
    };
    // Three UTC days around day B, by the hour and by the day: what the local buckets would be differenced with.
    const around = `from=${at(dayB - DAY, 0, 0)}&to=${at(dayB + 2 * DAY, 0, 0)}`;
    const [hours, days] = await Promise.all([get(`${around}&interval=hour`), get(`${around}&interval=day`)]);
    expect(hours.series[0]!.points.map((p) => p.count)).not.toContain(1);
    // Zones without daylight saving, so each local day is 24 hours.
    for (const timeZone of ['Asia/Tokyo', 'Asia/Dubai', 'America/Bogota', 'Pacific/Honolulu']) {
      const localDays = await get(`from=${at(dayB, 0, 0)}&to=${at(dayB + DAY, 0, 0)}&interval=day&timeZone=${timeZone}`);
      // The night person is in one of these local days, with the twelve of 10:15 or without them.
      expect(leavesNobodyAlone(leftOver(localDays, hours, DAY))).toBe(true);
    }
    for (const interval of ['week', 'month']) expect(leavesNobodyAlone(leftOver(await get(`${around}&interval=${interval}`), days, 31 * DAY))).toBe(true);
  });

  it('differencing the total and a filter of the other platforms leaves the one Android user inside k people, at every interval', async () => {
    const spans = { minute: 60_000, hour: 3_600_000, day: DAY };
    for (const [interval, span] of Object.entries(spans)) {
      const total = await ask('mood.valence', dayA, interval);
      for (const filter of ['platform:ios,platform:web', 'platform:ios', 'platform:web', 'platform:android']) {
        const filtered = await ask('mood.valence', dayA, interval, `&filter=${filter}`);
        // The attack: the total minus the filtered total is the platforms left out.
        expect(leavesNobodyAlone(leftOver(total, filtered, span))).toBe(true);
        const sums = total.series.flatMap((s) => s.points.map((p) => p.sum! - filtered.series.flatMap((g) => g.points.filter((q) => q.t === p.t)).reduce((n, q) => n + q.sum!, 0)));
        expect(sums.some((sum) => Math.abs(sum - ANDROID_VALENCE) < 1e-9)).toBe(false);
      }
      // And through a metric of two dimensions: events by type, all platforms but Android's.
      const byType = await ask('events', dayA, interval, '&groupBy=type');
      expect(leavesNobodyAlone(leftOver(byType, await ask('events', dayA, interval, '&groupBy=type&filter=platform:ios,platform:web'), span))).toBe(true);
    }
    // What the grouped answer shows, a filter shows too: the web group of 12 at the hour.
    expect((await ask('mood.valence', dayA, 'hour', '&filter=platform:web')).series).toEqual([{ group: {}, points: [expect.objectContaining({ count: 12, users: 12 })] }]);
  });

  it('shows no point of fewer than k users and never names what it withheld, in any answer above', () => {
    expect(answers.length).toBeGreaterThan(20);
    for (const answer of answers) {
      for (const point of answer.series.flatMap((s) => s.points)) expect(point.users).toBeGreaterThanOrEqual(K);
      expect(answer.suppressed.every((entry) => JSON.stringify(entry) === JSON.stringify({ reason: 'k_anonymity' }))).toBe(true);
      // A filter's echo names what the analyst asked for; the figures name no small group.
      expect(JSON.stringify([answer.series, answer.suppressed])).not.toContain('android');
    }
  });
});
