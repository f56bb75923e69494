import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
    const run = await app.runtime.runModels();
    const fitted = run.steps.find((step) => step.name === 'patterns');
    const archetypes = await app.request('GET', '/v1/patterns?kind=archetype');
    const sequences = await app.request('GET', '/v1/patterns?kind=sequence');

    expect(fitted).toMatchObject({ status: 'fitted', quality: { users: 12, k: 2 } });
    expect(archetypes.body.model).toMatchObject({ version: fitted?.status === 'fitted' ? fitted.version : 'none', users: 12, k: 2 });
    expect(archetypes.body.patterns.map((pattern: { name: string; users: number }) => [pattern.name, pattern.users]).sort()).toEqual([['fading', 6], ['steady', 6]]);
    // Every leaver and no stayer abandoned a session: confidence 1, and drop-out (6 of 12) twice as likely as overall.
    expect(sequences.body.patterns).toContainEqual({ id: expect.any(String), kind: 'sequence', steps: ['session.ended:abandoned'], users: 6, droppedOut: 6, support: 0.5, confidence: 1, lift: 2, precedes: 'dropout' });
    expect(sequences.body.patterns.every((pattern: { kind: string }) => pattern.kind === 'sequence')).toBe(true);
  });

  it("makes a cohort of an archetype's members, kept however many fits come after, and names a pattern it cannot select by", async () => {
    const { body } = await app.request('GET', '/v1/patterns');
    const idOf = (name: string) => (body.patterns as { id: string; name?: string }[]).find((pattern) => pattern.name === name)!.id;
    const sequence = (body.patterns as { id: string; kind: string }[]).find((pattern) => pattern.kind === 'sequence')!.id;
    const create = (name: string, definition: object) => app.request('POST', '/v1/cohorts', { body: { name, definition } });
    const [fading, steady] = await Promise.all([create('fading', { pattern: idOf('fading') }), create('steady', { pattern: idOf('steady') })]);
    for (let night = 0; night < 8; night += 1) await app.runtime.runModels();

    const listed = await app.request('GET', '/v1/cohorts');
    const sizes = Object.fromEntries((listed.body.cohorts as { id: string; users: number }[]).map((cohort) => [cohort.id, cohort.users]));
    expect([fading.status, steady.status, sizes[fading.body.id], sizes[steady.body.id]]).toEqual([201, 201, 6, 6]);
    const compared = await app.request('GET', `/v1/cohorts/compare?a=${fading.body.id}&b=${steady.body.id}&metric=daysActive`);
    expect(compared.body.metrics[0]).toMatchObject({ metric: 'daysActive', a: { users: 6, mean: 3 }, b: { users: 6, mean: 21 } });

    const ofSequence = await create('dropping out', { pattern: sequence });
    const unknown = await create('nobody', { all: [{ attribute: { platform: 'ios' } }, { pattern: 'no-such-pattern' }] });
    expect([ofSequence.status, ofSequence.body.error.details, ofSequence.body.error.message]).toEqual([400, { field: 'definition.pattern' }, expect.stringContaining('is a sequence pattern')]);
    expect([unknown.status, unknown.body.error.details]).toEqual([400, { field: 'definition.all.1.pattern' }]);
  });

  it('names the parameter it cannot take', async () => {
    const answer = await app.request('GET', '/v1/patterns?kind=cohort');
    expect([answer.status, answer.body.error.details]).toEqual([400, { parameter: 'kind' }]);
  });

  it('npm run model runs every model now with a bar each, and keeps each artefact in the data folder', async () => {
    const admin = app.runtime.tokens.issue('admin', 'admin-1');
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'bin/model.ts', '--url', app.runtime.url, '--token', admin], { timeout: 120_000 });

    // Twelve users have no outcome yet: the outcome model has nothing to learn from and says so.
    expect(stdout).toMatch(/patterns: version \S+ in [\d.]+ s, \{"users":12,"k":2,/);
    expect(stdout).toContain('outcomes: skipped, too little data to fit');
    const artefact = /\((models\/patterns\/\S+\.json)\)/.exec(stdout)![1]!;
    const stored = JSON.parse(readFileSync(join(app.dataDir, 'objects', artefact), 'utf8'));
    expect(stored).toMatchObject({ step: 'patterns', quality: { users: 12, k: 2 } });
    expect(JSON.stringify(stored)).not.toMatch(/leaver-|stayer-/);
  });

  it('npm run model refuses a token that is not an admin\'s', async () => {
    const analyst = app.runtime.tokens.issue('analyst', 'analyst-1');
    const failed = await promisify(execFile)('npx', ['tsx', 'bin/model.ts', '--url', app.runtime.url, '--token', analyst], { timeout: 60_000 }).catch((error: { code: number; stderr: string }) => error);

    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('needs an admin token') });
  });
});
