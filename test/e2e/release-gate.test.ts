import { ROUTES, type RouteKey } from '../../functions/handlers/http/roles';
import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const K = 3;
const at = new Date(Date.now() - 30 * 60_000);
const hour = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
const range = `from=${new Date(hour).toISOString()}&to=${new Date(hour + 3_600_000).toISOString()}`;
const moods = (platform: string, users: number) =>
  Array.from({ length: users }, (_, i) => makeEvent({ userId: `${platform}-person-${i}`, occurredAt: at.toISOString(), context: { platform } }, 'mood.reported'));

/**
 * Every route that releases cross-user aggregates (`releases` in ROUTES), asked for groups of
 * k - 1 and of k distinct users: the first comes back suppressed and listed, the second shown. A
 * route marked as a release without a row here fails the first test.
 */
const RELEASES: Partial<Record<RouteKey, { path: string; small: Record<string, string>; large: Record<string, string> }>> = {
  'GET /v1/metrics/{metric}': { path: `/v1/metrics/mood.valence?${range}&interval=hour&groupBy=platform`, small: { platform: 'android' }, large: { platform: 'ios' } },
};

describe('the release gate on every route that releases aggregates', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: String(K) });
    const posted = await app.postEvents([...moods('android', K - 1), ...moods('ios', K)]);
    if (posted.body.accepted !== 2 * K - 1) throw new Error(`the runtime took ${posted.body.accepted} of ${2 * K - 1} events`);
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('has a row for every releasing route', () => {
    const releasing = (Object.keys(ROUTES) as RouteKey[]).filter((route) => 'releases' in ROUTES[route]);
    expect(Object.keys(RELEASES).sort()).toEqual(releasing.sort());
  });

  it.each(Object.entries(RELEASES))('%s suppresses a group of k - 1 users and shows one of k', async (_route, release) => {
    const answer = await app.request('GET', release.path);
    expect(answer.status).toBe(200);
    expect(answer.body.suppressed).toEqual([{ group: release.small, reason: 'k_anonymity' }]);
    expect(answer.body.series.map((s: { group: unknown }) => s.group)).toEqual([release.large]);
  });
});
