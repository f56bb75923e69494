import { makeEvent } from '../support/events';
import { startTestRuntime, type TestRuntime } from '../support/runtime';

const DAY = 86_400_000;
const now = Date.now();
const dayAgo = (days: number) => new Date(now - days * DAY - 3_600_000).toISOString();
const session = (userId: string, daysAgo: number, completed: boolean) => [
  makeEvent({ userId, occurredAt: dayAgo(daysAgo) }, 'session.started'),
  makeEvent({ userId, occurredAt: dayAgo(daysAgo), attributes: { scenarioId: 'forest-path', durationSec: 600, activeSec: 420, completed } }, 'session.ended'),
];
// Six users left after three abandoned sessions 20 days ago; six came back every day since and completed them.
const LEAVERS = Array.from({ length: 6 }, (_, i) => `leaver-${i}`);
const STAYERS = Array.from({ length: 6 }, (_, i) => `stayer-${i}`);
const EVENTS = [
  ...LEAVERS.flatMap((userId) => [20, 19, 18].flatMap((days) => session(userId, days, false))),
  ...STAYERS.flatMap((userId) => Array.from({ length: 21 }, (_, n) => session(userId, 20 - n, true)).flat()),
];

describe('GET /v1/patterns over the features the runtime kept, fitted by the use case the model function calls', () => {
  let app: TestRuntime;

  beforeAll(async () => {
    app = await startTestRuntime({ K_ANONYMITY: '3' });
    for (let start = 0; start < EVENTS.length; start += 500) {
      const posted = await app.postEvents(EVENTS.slice(start, start + 500));
      if (posted.body.accepted !== Math.min(500, EVENTS.length - start)) throw new Error(`the runtime took ${posted.body.accepted} events`);
    }
    await app.runtime.drain();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers no model before the first fit', async () => {
    expect((await app.request('GET', '/v1/patterns')).body).toEqual({ model: null, patterns: [], suppressed: [] });
  });

  it('shows the newest fit: two archetypes, and abandoned sessions as what precedes drop-out', async () => {
    const fitted = await app.runtime.fitPatterns();
    const archetypes = await app.request('GET', '/v1/patterns?kind=archetype');
    const sequences = await app.request('GET', '/v1/patterns?kind=sequence');

    expect(archetypes.body.model).toEqual({ ...fitted.model, users: 12, k: 2 });
    expect(archetypes.body.patterns.map((pattern: { name: string; users: number }) => [pattern.name, pattern.users]).sort()).toEqual([['fading', 6], ['steady', 6]]);
    // Every leaver and no stayer abandoned a session: confidence 1, and drop-out (6 of 12) twice as likely as overall.
    expect(sequences.body.patterns).toContainEqual({ id: expect.any(String), kind: 'sequence', steps: ['session.ended:abandoned'], users: 6, droppedOut: 6, support: 0.5, confidence: 1, lift: 2, precedes: 'dropout' });
    expect(sequences.body.patterns.every((pattern: { kind: string }) => pattern.kind === 'sequence')).toBe(true);
  });

  it('names the parameter it cannot take', async () => {
    const answer = await app.request('GET', '/v1/patterns?kind=cohort');
    expect([answer.status, answer.body.error.details]).toEqual([400, { parameter: 'kind' }]);
  });
});
